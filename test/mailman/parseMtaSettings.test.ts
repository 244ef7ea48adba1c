import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseEximSettings, parsePostconfSettings } from '../../src/mailman/parseMtaSettings.js';

test('exim -bP: the spool and both booleans, as name / no_name', () => {
  assert.equal(
    parseEximSettings(
      'spool_directory = /var/spool/exim4\nno_split_spool_directory\nmessage_logs\n',
    ),
    { spoolDirectory: '/var/spool/exim4', splitSpoolDirectory: false, messageLogs: true },
  );
  assert.equal(
    parseEximSettings('spool_directory = /s p/x\nsplit_spool_directory\nno_message_logs\n'),
    { spoolDirectory: '/s p/x', splitSpoolDirectory: true, messageLogs: false },
  );
});

test('exim -bP: a missing line or a relative spool is no answer', () => {
  assert.is(parseEximSettings('spool_directory = /var/spool/exim4\nmessage_logs\n'), null);
  assert.is(parseEximSettings('no_split_spool_directory\nmessage_logs\n'), null);
  assert.is(
    parseEximSettings('spool_directory = spool\nsplit_spool_directory\nmessage_logs\n'),
    null,
  );
  assert.is(parseEximSettings('nonexistent_opt is not a known option\n'), null);
});

test('postconf -xh: three values, names split on commas and blanks', () => {
  assert.equal(parsePostconfSettings('/var/spool/postfix\n1\ndeferred, defer\n'), {
    queueDirectory: '/var/spool/postfix',
    hashQueueDepth: 1,
    hashQueueNames: ['deferred', 'defer'],
  });
  assert.equal(parsePostconfSettings('/q\n2\nincoming active,deferred  defer\n')?.hashQueueNames, [
    'incoming',
    'active',
    'deferred',
    'defer',
  ]);
  // An empty hash_queue_names is a line of its own.
  assert.equal(parsePostconfSettings('/q\n1\n\n')?.hashQueueNames, []);
});

test('postconf -xh: an unknown parameter (nothing printed) or a bad depth is no answer', () => {
  assert.is(parsePostconfSettings(''), null);
  assert.is(parsePostconfSettings('/var/spool/postfix\n1\n'), null);
  assert.is(parsePostconfSettings('/var/spool/postfix\nx\ndeferred\n'), null);
  assert.is(parsePostconfSettings('/var/spool/postfix\n0\ndeferred\n'), null);
  assert.is(parsePostconfSettings('relative\n1\ndeferred\n'), null);
});

test.run();
