import { parseTemplate, type Template } from '../campaign/template.js';
import { InputError } from '../errors.js';
import { iconvLite } from '../text/cp949.js';
import { MAX_TEMPLATE_BYTES, readInputFile } from './readableFile.js';

export interface TemplateFile {
  template: Template;
  bytes: Buffer;
}

/** Read and parse a template file (UTF-8, or CP949 from a Korean Windows editor). */
export function readTemplateFile(file: string): TemplateFile {
  // templates over the cap are not message templates
  const bytes = readInputFile(file, {
    what: 'template',
    maxBytes: MAX_TEMPLATE_BYTES,
    tooLarge: (n) =>
      `${file}: the template is ${n.toLocaleString('en-US')} bytes; templates are at most ${MAX_TEMPLATE_BYTES.toLocaleString('en-US')}`,
  });
  const bom16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (
    bom16 ||
    (bytes.length >= 4 &&
      ((bytes[1] === 0 && bytes[3] === 0 && bytes[0] !== 0) ||
        (bytes[0] === 0 && bytes[2] === 0 && bytes[1] !== 0)))
  ) {
    throw new InputError(`${file}: the template is UTF-16: save it as UTF-8`);
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new InputError(`${file} byte ${nul}: the template is not text (NUL byte)`);
  let source: string;
  try {
    source = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    source = iconvLite().decode(bytes, 'cp949');
    if (source.includes('\uFFFD'))
      throw new InputError(`${file}: the template is neither UTF-8 nor CP949 text`);
  }
  return { template: parseTemplate(source, file), bytes };
}
