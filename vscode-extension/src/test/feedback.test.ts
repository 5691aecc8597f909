import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FeedbackEvent } from '../api-client';
import { FeedbackTracker } from '../feedback';
import { RecordingLogger, flush } from './helpers';

function tracker(fail = false) {
  const sent: FeedbackEvent[] = [];
  const log = new RecordingLogger();
  const t = new FeedbackTracker(
    {
      sendEvent: async (event) => {
        sent.push(event);
        if (fail) {
          throw new Error('server down');
        }
      },
    },
    log,
  );
  const kinds = () => sent.map((e) => `${e.event} ${e.completion_id}`);
  return { t, sent, kinds, log };
}

test('a shown suggestion is one view, however often it is shown again', () => {
  const { t, kinds, sent } = tracker();
  t.shown('c1', 'python');
  t.shown('c1', 'python');
  assert.deepEqual(kinds(), ['view c1']);
  assert.equal(sent[0].language, 'python');
});

test('Tab sends accept', () => {
  const { t, kinds } = tracker();
  t.shown('c1', 'python');
  t.accepted('c1');
  assert.deepEqual(kinds(), ['view c1', 'accept c1']);
  t.nothingShown();
  assert.deepEqual(kinds(), ['view c1', 'accept c1'], 'an accepted suggestion is not dismissed afterwards');
});

test('a suggestion replaced by another is dismissed', () => {
  const { t, kinds } = tracker();
  t.shown('c1', 'python');
  t.shown('c2', 'python');
  assert.deepEqual(kinds(), ['view c1', 'dismiss c1', 'view c2']);
});

test('typed over (nothing to show any more) or Escape is a dismiss, once', () => {
  const { t, kinds } = tracker();
  t.shown('c1', 'python');
  t.nothingShown();
  t.dismissed();
  assert.deepEqual(kinds(), ['view c1', 'dismiss c1']);
});

test('suggestions without an id send nothing', () => {
  const { t, kinds } = tracker();
  t.shown('', 'python');
  t.accepted('');
  assert.deepEqual(kinds(), []);
});

test('a failed delivery is logged at debug level and never thrown', async () => {
  const { t, log } = tracker(true);
  t.shown('c1', 'python');
  await flush();
  assert.equal(log.at('debug').length, 1);
  assert.equal(log.at('warn').length + log.at('error').length, 0);
});
