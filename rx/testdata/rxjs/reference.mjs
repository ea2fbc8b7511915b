// reference.mjs prints, as JSON on stdout, what RxJS 7's TestScheduler (run
// mode: one frame is one virtual millisecond) gives for the cases that the
// Go tests of rx and marbletest compare against. golden.json is its output:
//
//	npm ci && node reference.mjs > golden.json
//
// `make integration-rxjs` (mk/rxjs.mk) runs it again and fails when the
// output differs from golden.json.
//
// Every case records its inputs next to RxJS's answer, so that the Go tests
// read both from golden.json and nothing is written twice. Events are
// [frame, symbol] with the value itself, "|" for complete and "#" for
// error; subscriptions are [subscribed, unsubscribed] frames, null when the
// subscription never ended.
import { readFileSync } from 'node:fs';
import { TestScheduler } from 'rxjs/testing';
import { EMPTY, merge, of, throwError, timer } from 'rxjs';
import {
  debounceTime, distinctUntilChanged, filter, groupBy, map, mergeMap, switchMap, take, takeUntil,
} from 'rxjs/operators';

const rxjsVersion = JSON.parse(readFileSync(new URL('./node_modules/rxjs/package.json', import.meta.url))).version;

const symbol = (n) => (n.kind === 'N' ? String(n.value) : n.kind === 'C' ? '|' : '#');
const events = (messages) => messages.map(({ frame, notification }) => [frame, symbol(notification)]);
const logs = (subscriptions) => subscriptions.map((s) => [
  s.subscribedFrame === Infinity ? null : s.subscribedFrame,
  s.unsubscribedFrame === Infinity ? null : s.unsubscribedFrame,
]);
const json = (x) => JSON.stringify(x, (_, v) => (v === Infinity ? 'Infinity' : v));

// observe runs build in a TestScheduler and records what its output emits,
// subscribed as `sub` says, and the subscriptions of the sources it names.
function observe(spec, build) {
  let actual = null;
  const ts = new TestScheduler((a) => { actual = a; });
  let sources = [];
  ts.run((helpers) => {
    const built = build(helpers);
    sources = built.sources ?? [];
    helpers.expectObservable(built.output, spec.sub).toBe('');
  });
  const out = { ...spec, output: events(actual) };
  if (sources.length > 0) out.subscriptions = sources.map((s) => logs(s.subscriptions));
  return out;
}

// accepts reports whether expectSubscriptions(source.subscriptions)
// .toBe(spec.marbles) passes for a cold source spec.cold that the test
// subscribes as spec.sub says, or never when spec.sub is null.
function accepts(spec) {
  const verdicts = [];
  const ts = new TestScheduler((a, e) => { verdicts.push(json(a) === json(e)); });
  ts.run(({ cold, expectObservable, expectSubscriptions }) => {
    const source = cold(spec.cold);
    if (spec.sub !== null) expectObservable(source, spec.sub).toBe('');
    expectSubscriptions(source.subscriptions).toBe(spec.marbles);
  });
  return { ...spec, accepted: verdicts[verdicts.length - 1] };
}

const parse = (marble) => {
  let evs;
  new TestScheduler(() => {}).run(() => {
    evs = events(TestScheduler.parseMarbles(marble, undefined, undefined, false, true));
  });
  return { marble, events: evs };
};

// The notifiers of takeUntil cases that have no marble.
const notifiers = {
  of: () => of('x'),
  error: () => throwError(() => new Error('notifier')),
  empty: () => EMPTY,
};

const keyOf = (keys) => (v) => keys[v];

const cases = [
  // Subscription marbles of expectObservable: with and without '^', and
  // the order of (un)subscription and hot values in one frame.
  ...['^--!', '---!', '---', '-', '', '---^', '---^--!', '--^--!', '(^!)', '--(^!)', '(-^)-!', '- 2ms ^ 1ms !']
    .map((sub) => observe({ name: `hot -a-b-c| subscribed ${JSON.stringify(sub)}`, op: 'hot', hot: '-a-b-c|', sub },
      ({ hot }) => ({ output: hot('-a-b-c|') }))),
  observe({ name: 'hot -a-b-d-a-b subscribed --^--!', op: 'hot', hot: '-a-b-d-a-b', sub: '--^--!' },
    ({ hot }) => ({ output: hot('-a-b-d-a-b') })),
  observe({ name: 'hot --a-^-b-d-| from its ^', op: 'hot', hot: '--a-^-b-d-|' },
    ({ hot }) => ({ output: hot('--a-^-b-d-|') })),
  // An unsubscription comes before the timers of its frame too.
  ...['^--!', '^---!'].map((sub) => observe({ name: `timer 3 subscribed ${JSON.stringify(sub)}`, op: 'timer', due: 3, sub },
    () => ({ output: timer(3).pipe(map(() => 'd')) }))),

  // debounceTime: the pending value goes out when the source completes.
  ...[
    { hot: '-a-b|', due: 5 },
    { hot: '-a-b-----c-|', due: 3 },
    { hot: '-a-#', due: 3 },
    { hot: '-a-b---|', due: 3 },
    { hot: 'a 100ms b 100ms c 500ms d', due: 300 },
    { hot: '-a--^-b-c 10ms d 5ms |', due: 7 },
  ].map((c) => observe({ name: `debounceTime(${c.due}) of ${JSON.stringify(c.hot)}`, op: 'debounceTime', ...c },
    ({ hot }) => ({ output: hot(c.hot).pipe(debounceTime(c.due)) }))),

  // takeUntil: the notifier is subscribed first; one that notifies at once
  // keeps the source from being subscribed at all.
  ...[
    { cold: ['-a-b-c|'], notifier: 'of' },
    { cold: ['-a-b-c|'], notifier: 'error' },
    { cold: ['-a-b-c|'], notifier: 'empty' },
    { cold: ['-a-b-c|', '----x'] },
    { cold: ['-a-b-c|', '--#'] },
    { cold: ['-a-b-c|', '--|'] },
  ].map((c) => observe({ name: `takeUntil(${c.notifier ?? JSON.stringify(c.cold[1])}) of ${JSON.stringify(c.cold[0])}`, op: 'takeUntil', ...c },
    ({ cold }) => {
      const sources = c.cold.map((m) => cold(m));
      const notifier = c.notifier ? notifiers[c.notifier]() : sources[1];
      return { output: sources[0].pipe(takeUntil(notifier)), sources };
    })),

  // take completes at the n-th item and unsubscribes from its source.
  ...[
    { cold: ['-a-b-c-d|'], n: 2 },
    { cold: ['-a-b-c-d|'], n: 0 },
    { cold: ['-a-b'], n: 5 },
    { cold: ['-a-#'], n: 3 },
    { cold: ['-a-b|'], n: 2 },
  ].map((c) => observe({ name: `take(${c.n}) of ${JSON.stringify(c.cold[0])}`, op: 'take', ...c },
    ({ cold }) => {
      const sources = [cold(c.cold[0])];
      return { output: sources[0].pipe(take(c.n)), sources };
    })),

  // timer(due, period), cut by take.
  ...[
    { due: 0, period: 3, n: 3 },
    { due: 5, period: 2, n: 4 },
  ].map((c) => observe({ name: `timer(${c.due}, ${c.period}) take(${c.n})`, op: 'timerEvery', ...c },
    () => ({ output: timer(c.due, c.period).pipe(take(c.n)) }))),

  // distinctUntilChanged, by value and with a comparator.
  observe({ name: 'distinctUntilChanged of a-a-b-b-a|', op: 'distinctUntilChanged', cold: ['a-a-b-b-a|'] },
    ({ cold }) => ({ output: cold('a-a-b-b-a|').pipe(distinctUntilChanged()) })),
  observe({ name: 'distinctUntilChanged ignoring case of a-A-b-B-a-#', op: 'distinctUntilChanged', cold: ['a-A-b-B-a-#'], eq: 'caseless' },
    ({ cold }) => ({ output: cold('a-A-b-B-a-#').pipe(distinctUntilChanged((p, q) => p.toLowerCase() === q.toLowerCase())) })),

  // merge: completes when all have, and an error unsubscribes the rest.
  ...[
    ['-a--b|', '--c|'],
    ['-a--b|', '--#'],
    ['-a--b', '--c|'],
    [],
  ].map((marbles) => observe({ name: `merge(${marbles.map((m) => JSON.stringify(m)).join(', ')})`, op: 'merge', cold: marbles },
    ({ cold }) => {
      const sources = marbles.map((m) => cold(m));
      return { output: merge(...sources), sources };
    })),

  // groupBy(key), then switchMap per group: what rx.SwitchMapBy is.
  ...[
    { hot: '-a-x-b------y--|', keys: { a: 1, b: 1, x: 2, y: 2 } },
    { hot: '-a-x-b---#', keys: { a: 1, b: 1, x: 2, y: 2 } },
    { hot: '-ab---c|', keys: { a: 1, b: 1, c: 1 } },
  ].map((c) => observe({ name: `switchMapBy of ${JSON.stringify(c.hot)}, inners timer(2, 3) take(2)`, op: 'switchMapBy', due: 2, period: 3, n: 2, ...c },
    ({ hot }) => ({
      output: hot(c.hot).pipe(
        groupBy(keyOf(c.keys)),
        mergeMap((group) => group.pipe(switchMap((v) => timer(2, 3).pipe(take(2), map(() => v.toUpperCase()))))),
      ),
    }))),

  // The heartbeat of HAWechaty, per bot: after `due` frames of silence a
  // ding, then one every `period`, until the bot's dong or its next message.
  // a and b are messages of bots 1 and 2, x and y their dongs, A and B the
  // dings to them.
  ...[{ hot: '-a--b-----x-----b--a------------y--x--|', keys: { a: 1, x: 1, b: 2, y: 2 }, due: 5, period: 5 }]
    .map((c) => observe({ name: 'heartbeat per bot', op: 'heartbeat', ...c }, ({ hot }) => {
      const action$ = hot(c.hot);
      const bot = keyOf(c.keys);
      const dongs = (k) => action$.pipe(filter((v) => 'xy'.includes(v) && bot(v) === k));
      return {
        output: action$.pipe(
          filter((v) => 'ab'.includes(v)),
          groupBy(bot),
          mergeMap((group) => group.pipe(switchMap((v) => timer(c.due, c.period).pipe(
            map(() => v.toUpperCase()),
            takeUntil(dongs(group.key)),
          )))),
        ),
      };
    })),

  // A function given to an operator that throws: RxJS sends the error to
  // the subscriber in that frame and unsubscribes what it subscribed; in Go
  // a panic of such a function is that error (rx.ErrPanicked).
  observe({ name: 'switchMap whose project throws on b', op: 'switchMap', hot: '-a--b--c|', due: 2, throws: 'b' },
    ({ hot }) => ({
      output: hot('-a--b--c|').pipe(switchMap((v) => {
        if (v === 'b') throw new Error('project');
        return timer(2).pipe(map(() => v.toUpperCase()));
      })),
    })),
  observe({ name: 'switchMapBy whose key throws on b', op: 'switchMapBy', hot: '-a--b--c|', keys: { a: 1, b: 1, c: 1 }, due: 2, period: 3, n: 2, throws: 'b' },
    ({ hot }) => ({
      output: hot('-a--b--c|').pipe(
        groupBy((v) => { if (v === 'b') throw new Error('key'); return 1; }),
        mergeMap((group) => group.pipe(switchMap((v) => timer(2, 3).pipe(take(2), map(() => v.toUpperCase()))))),
      ),
    })),
  observe({ name: 'distinctUntilChanged whose comparator throws on c', op: 'distinctUntilChanged', cold: ['a-a-b-c-d|'], throws: 'c' },
    ({ cold }) => {
      const sources = [cold('a-a-b-c-d|')];
      return {
        output: sources[0].pipe(distinctUntilChanged((p, q) => { if (q === 'c') throw new Error('eq'); return p === q; })),
        sources,
      };
    }),

  // What RxJS answers where this project deliberately differs; the Go tests
  // hold our answer and the reason.
  observe({ name: 'difference: debounceTime(3) of a--b', op: 'debounceTime', hot: 'a--b', due: 3 },
    ({ hot }) => ({ output: hot('a--b').pipe(debounceTime(3)) })),
  observe({ name: 'difference: takeUntil(timer 3) of hot ---b', op: 'takeUntilTimer', hot: '---b', due: 3 },
    ({ hot }) => ({ output: hot('---b').pipe(takeUntil(timer(3))) })),
  observe({ name: 'difference: takeUntil(cold x) of -a|', op: 'takeUntil', cold: ['-a|', 'x'] },
    ({ cold }) => {
      const sources = [cold('-a|'), cold('x')];
      return { output: sources[0].pipe(takeUntil(sources[1])), sources };
    }),
];

// expectSubscriptions: which marbles accept a source never subscribed, and
// one subscribed from frame 0 to frame 3. RxJS drops the marbles without
// '^' from what it expects.
const subscriptionChecks = [];
for (const sub of [null, '^--!']) {
  for (const marbles of [[], '', '---', '-', '---!', '^--!', ['^--!', '---'], ['^--!', '---!'], '^---!', '^']) {
    subscriptionChecks.push(accepts({ cold: '-a-b', sub, marbles }));
  }
}

const marbles = [
  '400ms (a-b|)', '(a-b)c', '(a--b)c', '(a 10ms b)c', '( 10ms a)b', '(a 10ms)b', '-(ab)c', '(a-)b', '(-)a', '()a',
  '(a b)c', '--a-^-b-c-|', 'a 3500ms b', '-a-#', '^ (a-b) c',
  // Where this project differs (see the Go tests).
  'a 10ms ^ b', '(ab)^c', 'a 10ms',
].map(parse);

// One entry a line, so that a change in RxJS's answers reads as a diff.
const list = (entries) => `[\n${entries.map((e) => `  ${JSON.stringify(e)}`).join(',\n')}\n ]`;
process.stdout.write(`{
 "rxjs": ${JSON.stringify(rxjsVersion)},
 "marbles": ${list(marbles)},
 "cases": ${list(cases)},
 "subscriptionChecks": ${list(subscriptionChecks)}
}
`);
