/**
 * Human output with its wrapped lines joined back: writeWrapped breaks a line at blanks to fit
 * 80 columns (off a terminal too) and indents what follows; a test that looks for a sentence
 * reads it whole. (Indented lines of their own, a plan's steps, are joined too: look for
 * substrings.)
 */
export function unwrapLines(text: string): string {
  return text.replace(/\n +/g, ' ');
}
