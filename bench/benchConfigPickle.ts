/**
 * A small but valid list config as Python 2's cPickle.dump(d, f, 1) writes it (EMPTY_DICT,
 * BINPUT, MARK, SHORT_BINSTRING pairs, SETITEMS, STOP), so the bench can plan and apply real
 * configs.
 */
export function benchConfigPickle(name: string): Buffer {
  const parts: Buffer[] = [Buffer.from([0x7d, 0x71, 0x01, 0x28])];
  let memo = 2;
  const str = (value: string): Buffer => {
    const bytes = Buffer.from(value, 'latin1');
    return Buffer.concat([Buffer.from([0x55, bytes.length]), bytes, Buffer.from([0x71, memo++])]);
  };
  for (const [key, value] of [
    ['real_name', name],
    ['host_name', 'lists.example.org'],
    ['description', `Discussion of ${name}`],
  ] as const) {
    parts.push(str(key), str(value));
  }
  parts.push(Buffer.from([0x75, 0x2e]));
  return Buffer.concat(parts);
}
