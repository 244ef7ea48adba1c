import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { CONFIG_FILES, diagnoseList, judgeList } from '../../src/mailman/diagnoseList.js';
import { diagnoseMailman, type DoctorReport } from '../../src/mailman/diagnoseMailman.js';
import { cliAsNobody } from '../helpers/runCli.js';
import type { FileState } from '../../src/types.js';
import { breakMailmanTree, type BreakShape } from '../../samples/breakMailmanTree.js';
import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { runPython } from '../helpers/pythonPickle.js';

const files = (states: FileState[]) =>
  CONFIG_FILES.map((name, i) => ({ name, state: states[i] ?? 'missing' }));

// Mailman 2.1 MailList.Load(): first file that loads as a dict, in this order.
const TABLE: Array<[FileState[], string, string | null]> = [
  [['ok', 'ok', 'missing', 'missing'], 'ok', 'config.pck'],
  [['ok', 'missing', 'missing', 'missing'], 'ok', 'config.pck'],
  [['ok', 'zeroed', 'invalid', 'empty'], 'ok', 'config.pck'],
  [['zeroed', 'ok', 'missing', 'missing'], 'degraded', 'config.pck.last'],
  [['empty', 'ok', 'ok', 'ok'], 'degraded', 'config.pck.last'],
  [['missing', 'ok', 'missing', 'missing'], 'degraded', 'config.pck.last'],
  [['truncated', 'truncated', 'ok', 'missing'], 'degraded', 'config.db'],
  [['not-a-dict', 'invalid', 'zeroed', 'ok'], 'degraded', 'config.db.last'],
  [['missing', 'missing', 'missing', 'ok'], 'degraded', 'config.db.last'],
  [['truncated', 'zeroed', 'missing', 'missing'], 'corrupt', null],
  [['empty', 'empty', 'empty', 'empty'], 'corrupt', null],
  [['invalid', 'not-a-dict', 'truncated', 'zeroed'], 'corrupt', null],
  // Utils.list_exists is false: no config file at all. Mailman does not see the list.
  [['missing', 'missing', 'missing', 'missing'], 'lost', null],
];

test('judges file states in Mailman 2.1 load order', () => {
  for (const [states, status, loadsFrom] of TABLE) {
    const verdict = judgeList(files(states));
    assert.is(verdict.status, status, states.join(','));
    assert.is(verdict.loadsFrom, loadsFrom, states.join(','));
  }
});

const why = missingNeeds({ tools: ['python3'] });
(why ? test.skip : test)(
  'reads real list dirs: crash shapes, legacy config.db, protocol 0 and 2 pickles',
  async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const shapes: BreakShape[] = [
        'empty',
        'zeroed',
        'truncated',
        'garbage',
        'not-a-dict',
        'delete',
      ];
      const lists = [...shapes, 'onlydb', 'proto0', 'proto2', 'trailing', 'tmp'];
      await generateMailmanTree(dir, { lists, members: 30, postsPerList: 1, queueFiles: 0 });
      await breakMailmanTree(dir, [
        ...shapes.map((shape) => ({ list: shape, shape })),
        { list: 'onlydb', shape: 'delete' },
        { list: 'onlydb', shape: 'delete', file: 'config.pck.last' },
        { list: 'tmp', shape: 'tmp-leftover' },
      ]);
      const listDir = (name: string): string => path.join(dir, 'lists', name);
      // Legacy marshal config.db as Mailman < 2.1 wrote it; pickles of other protocols.
      writeFileSync(
        path.join(listDir('onlydb'), 'config.db'),
        runPython(
          "import marshal,sys; sys.stdout.buffer.write(marshal.dumps({'real_name': 'x'}, 2))",
        ),
      );
      writeFileSync(
        path.join(listDir('proto0'), 'config.pck'),
        runPython(
          "import pickle,sys; sys.stdout.buffer.write(pickle.dumps({'real_name': 'x', 'n': [1, 2.5]}, 0))",
        ),
      );
      writeFileSync(
        path.join(listDir('proto2'), 'config.pck'),
        runPython(
          "import pickle,sys; sys.stdout.buffer.write(pickle.dumps({'real_name': 'x', 'n': (1, 2)}, 2))",
        ),
      );
      writeFileSync(
        path.join(listDir('trailing'), 'config.pck'),
        Buffer.concat([
          runPython("import pickle,sys; sys.stdout.buffer.write(pickle.dumps({'a': 1}, 1))"),
          Buffer.alloc(64, 0x41),
        ]),
      );

      const expect: Record<string, [string, string | null, string]> = {
        empty: ['degraded', 'config.pck.last', 'empty'],
        zeroed: ['degraded', 'config.pck.last', 'zeroed'],
        truncated: ['degraded', 'config.pck.last', 'truncated'],
        garbage: ['degraded', 'config.pck.last', 'invalid'],
        'not-a-dict': ['degraded', 'config.pck.last', 'not-a-dict'],
        delete: ['degraded', 'config.pck.last', 'missing'],
        onlydb: ['degraded', 'config.db', 'missing'],
        proto0: ['ok', 'config.pck', 'ok'],
        proto2: ['ok', 'config.pck', 'ok'],
        trailing: ['ok', 'config.pck', 'ok'],
        tmp: ['ok', 'config.pck', 'ok'],
      };
      for (const [name, [status, loadsFrom, pckState]] of Object.entries(expect)) {
        const diagnosis = await diagnoseList(listDir(name));
        assert.is(diagnosis.status, status, name);
        assert.is(diagnosis.loadsFrom, loadsFrom, name);
        assert.is(diagnosis.files[0]?.state, pckState, name);
        assert.equal(
          diagnosis.stateFiles.map((f) => f.state),
          ['ok', 'ok'],
          'request.pck and pending.pck load',
        );
      }
      assert.equal((await diagnoseList(listDir('tmp'))).interruptedSave, [
        'config.pck.tmp.lists.example.org.4242',
      ]);
      assert.equal((await diagnoseList(listDir('proto0'))).interruptedSave, []);

      await breakMailmanTree(dir, [
        { list: 'empty', shape: 'truncated', file: 'config.pck.last' },
        { list: 'empty', shape: 'zeroed', file: 'request.pck' },
      ]);
      const down = await diagnoseList(listDir('empty'));
      assert.is(down.status, 'corrupt');
      assert.is(down.loadsFrom, null);
      assert.is(down.stateFiles[0]?.state, 'zeroed');
    } finally {
      cleanup();
    }
  },
);
if (why) console.log(`skipped: list dir diagnosis ${why}`);

(why ? test.skip : test)(
  'a config file that is not a regular file (a directory, a fifo) does not load: the list is judged, nothing crashes or hangs',
  async () => {
    const { dir, cleanup } = makeScratch();
    try {
      await generateMailmanTree(dir, { lists: ['alpha'], postsPerList: 0, queueFiles: 0 });
      const listDir = path.join(dir, 'lists', 'alpha');
      rmSync(path.join(listDir, 'config.pck'));
      mkdirSync(path.join(listDir, 'config.pck'));
      rmSync(path.join(listDir, 'request.pck'));
      run('mkfifo', [path.join(listDir, 'request.pck')]);
      const diagnosis = await diagnoseList(listDir);
      assert.is(diagnosis.files[0]?.state, 'invalid');
      assert.match(diagnosis.files[0]?.detail ?? '', /not a regular file/);
      assert.is(diagnosis.status, 'degraded', 'Mailman falls back to config.pck.last');
      assert.is(diagnosis.loadsFrom, 'config.pck.last');
      assert.is(diagnosis.stateFiles[0]?.state, 'invalid');
    } finally {
      cleanup();
    }
  },
);

test('a file the doctor cannot read is a finding about that file, never the end of the diagnosis', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const root = path.join(dir, 'mailman');
    await generateMailmanTree(root, {
      lists: ['mailman', 'loop', 'locked'],
      postsPerList: 1,
      queueFiles: 0,
    });
    // A symlink loop where config.pck belongs: stat fails with ELOOP (as root too).
    rmSync(path.join(root, 'lists', 'loop', 'config.pck'));
    symlinkSync('config.pck', path.join(root, 'lists', 'loop', 'config.pck'));
    const loop = await diagnoseList(path.join(root, 'lists', 'loop'));
    assert.equal(loop.files[0], {
      name: 'config.pck',
      state: 'invalid',
      detail: 'cannot be read: ELOOP',
    });
    assert.is(loop.status, 'degraded', 'config.pck.last still loads');
    // A list directory this user may not enter (doctor run as nobody): the others are judged.
    let report = await diagnoseMailman(root);
    assert.is(report.summary.degraded, 1);
    if (process.getuid?.() !== 0 || spawnSync('runuser', ['--help']).status !== 0) {
      console.log('skipped: an unreadable list directory needs root (runuser -u nobody)');
      return;
    }
    spawnSync('chmod', ['-R', 'a+rX', dir]);
    spawnSync('chmod', ['755', dir]);
    chmodSync(path.join(root, 'lists', 'locked'), 0o000);
    const child = cliAsNobody(['doctor', root, '--json']);
    assert.is(child.code, 2, child.stderr);
    report = JSON.parse(child.stdout) as DoctorReport;
    const locked = report.lists.find((l) => l.name === 'locked');
    assert.is(locked?.status, 'corrupt');
    assert.match(locked?.files[0]?.detail ?? '', /^cannot be read: EACCES \(run doctor as root/);
    assert.is(report.lists.find((l) => l.name === 'mailman')?.status, 'ok');
  } finally {
    cleanup();
  }
});

test.run();
