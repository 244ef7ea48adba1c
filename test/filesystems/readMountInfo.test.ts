import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  parseMountInfo,
  readMountInfo,
  unescapeMountField,
} from '../../src/filesystems/readMountInfo.js';
import { hasTool, run } from '../helpers/env.js';

test('octal escapes of space, tab, newline and backslash', () => {
  assert.is(unescapeMountField('/mnt/my\\040disk'), '/mnt/my disk');
  assert.is(unescapeMountField('a\\011b\\012c\\134d'), 'a\tb\nc\\d');
});

test('optional fields vary in number; the "-" separator ends them', () => {
  const text = [
    '36 35 98:0 /mnt1 /mnt/parent\\040dir rw,noatime master:1 shared:7 - ext3 /dev/root rw,errors=continue',
    '40 27 0:45 / /srv/btrfs rw,relatime - btrfs /dev/loop3 rw,space_cache=v2,subvolid=5,subvol=/',
    'garbage line',
  ].join('\n');
  const [a, b, ...rest] = parseMountInfo(text);
  assert.equal(rest, []);
  assert.is(a!.device, '98:0');
  assert.is(a!.root, '/mnt1');
  assert.is(a!.mountPoint, '/mnt/parent dir');
  assert.is(a!.fsType, 'ext3');
  assert.is(a!.source, '/dev/root');
  assert.is(b!.device, '0:45');
  assert.is(b!.fsType, 'btrfs');
});

test('the real table agrees with findmnt', async () => {
  if (!hasTool('findmnt')) return void console.log('skipped: needs findmnt');
  const ours = await readMountInfo();
  const theirs = JSON.parse(run('findmnt', ['-J', '-l', '-o', 'TARGET,FSTYPE,MAJ:MIN'])) as {
    filesystems: { target: string; fstype: string; 'maj:min': string }[];
  };
  assert.is(ours.length, theirs.filesystems.length);
  for (const [i, fs] of theirs.filesystems.entries()) {
    assert.is(ours[i]!.mountPoint, fs.target);
    assert.is(ours[i]!.fsType, fs.fstype);
    assert.is(ours[i]!.device, fs['maj:min']);
  }
});

test.run();
