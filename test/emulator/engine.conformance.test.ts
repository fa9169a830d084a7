/**
 * FDL conformance table: definition + input → expected output or error, on virtual time (nothing sleeps).
 * Section 1 replays every example definition from reference/cloudflow-fdl.md §1.7 (and §2 for the legacy spec).
 */
import { describe, expect, test } from 'vitest';
import { loadFlowDefinition, type TaskHandlers } from '../../src/emulator/engine/index.js';
import { flowOf, runFlow } from './engine-helpers.js';

interface Case {
  name: string;
  flow: string;
  input?: Record<string, unknown>;
  handlers?: TaskHandlers;
  /** Expected output of a Succeeded execution. */
  output?: unknown;
  /** Expected failure. */
  error?: { status?: 'Failed' | 'TimedOut'; errorCode: string; errorMessage?: string | RegExp };
}

async function check(c: Case): Promise<void> {
  const result = await runFlow(c.flow, c.input ?? {}, { handlers: c.handlers ?? {} });
  if (c.error) {
    expect(result).toMatchObject({ status: c.error.status ?? 'Failed', errorCode: c.error.errorCode });
    expect(result.output).toBeUndefined();
    if (typeof c.error.errorMessage === 'string') expect(result.errorMessage).toBe(c.error.errorMessage);
    else if (c.error.errorMessage) expect(result.errorMessage).toMatch(c.error.errorMessage);
  } else {
    expect(result.errorMessage).toBeUndefined();
    expect(result).toMatchObject({ status: 'Succeeded' });
    expect(result.output).toEqual(c.output);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 1. The documented examples (reference §1.7), verbatim.

const DOC_PASS = `
Type: StateMachine
Name: my-wkfl
SpecVersion: v1
StartAt: Pass1
States:
  - Type: Pass
    Name: Pass1
    End: true
    InputConstructor:
      FieldA: 123
`;

const DOC_CHOICE = `
Type: StateMachine
Name: MyWorkflow
SpecVersion: v1
StartAt: Choice
States:
  - Type: Choice
    Name: Choice
    Branches:
      - Condition: $Input.data == "ready"
        Next: Pass1
    Default: Pass2
  - Type: Pass
    Name: Pass2
    End: true
  - Type: Pass
    Name: Pass1
    End: true
`;

const DOC_PARALLEL = `
Type: StateMachine
Name: my-wkfl
SpecVersion: v1
StartAt: Parallel1
States:
  - Type: Parallel
    Name: Parallel1
    End: true
    Branches:
      - StartAt: Pass1
        States:
          - Type: Pass
            Name: Pass1
            End: true
            OutputConstructor:
              FieldA: 123
      - StartAt: Pass2
        States:
          - Type: Pass
            InputConstructor:
              FieldA: 321
            Name: Pass2
            End: true
`;

// The Succeed page reuses the Parallel flow with Pass1 replaced by a Succeed state.
const DOC_SUCCEED = DOC_PARALLEL.replace('StartAt: Pass1', 'StartAt: Succeed1')
  .replace('- Type: Pass\n            Name: Pass1\n            End: true\n            OutputConstructor:\n              FieldA: 123', '- Type: Succeed\n            Name: Succeed1');

const DOC_FAIL = `
Type: StateMachine
Name: my-workflow
SpecVersion: v1
Description: " "
StartAt: Choice1
States:
  - Type: Choice
    Name: Choice1
    Branches:
      - Condition: $Input.status == "true"
        Next: Pass1
    Default: Fail1
  - Type: Fail
    Name: Fail1
    Code: "customBizCode"
    End: true
  - Type: Pass
    Name: Pass1
    End: true
`;

const DOC_TASK = `
Type: StateMachine
Name: task-shape
SpecVersion: v1
StartAt: 同步调用函数示例
States:
  - Name: 同步调用函数示例
    Type: Task
    TaskMode: RequestComplete
    Action: FC:InvokeFunction
    Parameters:
      resourceArn: acs:fc:...
      invocationType: Sync
      body:
        key.$: $Input.x
    End: true
`;

const DOC_LEGACY = `
version: v1
type: flow
steps:
  - type: choice
    name: mychoice
    choices:
      - condition: $.status == "ready"
        steps:
          - type: pass
            name: pass1
      - condition: $.status == "failed"
        goto: handle_failure
    default:
      steps:
        - type: pass
          name: pass2
      goto: handle_failure
  - type: succeed
    name: final
  - type: pass
    name: handle_failure
`;

describe('documented examples (reference §1.7)', () => {
  const cases: Case[] = [
    { name: 'A. Pass InputConstructor replaces the input', flow: DOC_PASS, input: { requestId: 'abc-123' }, output: { FieldA: 123 } },
    { name: 'B. Choice: data == "ready" goes to Pass1', flow: DOC_CHOICE, input: { data: 'ready' }, output: { data: 'ready' } },
    { name: 'B. Choice: anything else goes to Default Pass2', flow: DOC_CHOICE, input: { data: 'later' }, output: { data: 'later' } },
    { name: 'C. Parallel output uses Branch<i> keys', flow: DOC_PARALLEL, input: { x: 1 }, output: { Branch0: { FieldA: 123 }, Branch1: { FieldA: 321 } } },
    { name: 'Succeed page: a Succeed ends its branch with its input', flow: DOC_SUCCEED, input: { x: 1 }, output: { Branch0: { x: 1 }, Branch1: { FieldA: 321 } } },
    { name: 'D. Fail: status == "true" goes to Pass1', flow: DOC_FAIL, input: { status: 'true' }, output: { status: 'true' } },
    { name: 'D. Fail: otherwise fails with the Code (no Detail given)', flow: DOC_FAIL, input: { status: 'false' }, error: { errorCode: 'customBizCode', errorMessage: '' } },
    { name: 'D. Fail: a missing status also fails', flow: DOC_FAIL, input: {}, error: { errorCode: 'customBizCode' } },
    { name: 'Task shape: loads; FC:InvokeFunction is not emulated', flow: DOC_TASK, input: { x: 1 }, error: { errorCode: 'FnF.ActionNotSupported', errorMessage: /FC:InvokeFunction/ } },
  ];
  test.each(cases)('$name', check);

  test('B. Choice takes Pass1 for "ready" and Pass2 otherwise (observed through $Context.Current.Name)', async () => {
    const traced = DOC_CHOICE.replace(/(Name: Pass[12]\n)/g, '$1    OutputConstructor:\n      ran.$: $Context.Current.Name\n');
    expect((await runFlow(traced, { data: 'ready' })).output).toEqual({ ran: 'Pass1' });
    expect((await runFlow(traced, { data: 'other' })).output).toEqual({ ran: 'Pass2' });
  });

  test('the Task shape example is valid FDL and names its Action', () => {
    expect(loadFlowDefinition(DOC_TASK).actions).toEqual(['FC:InvokeFunction']);
  });

  test('§2 legacy `type: flow` example is refused with a clear message', () => {
    expect(() => loadFlowDefinition(DOC_LEGACY)).toThrow('unsupported: the legacy `type: flow` spec is not supported; use Type: StateMachine, SpecVersion: v1');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 2. State types.

const echo: TaskHandlers = { echo: (input) => input };

describe('state types', () => {
  const cases: Case[] = [
    { name: 'Pass forwards its input', flow: flowOf('  - Type: Pass\n    Name: P\n    End: true\n'), input: { a: 1 }, output: { a: 1 } },
    {
      name: 'Pass chain follows Next',
      flow: flowOf('  - Type: Pass\n    Name: A\n    Next: B\n    OutputConstructor:\n      step: a\n  - Type: Pass\n    Name: B\n    End: true\n    OutputConstructor:\n      prev.$: $Input.step\n      step: b\n'),
      output: { prev: 'a', step: 'b' },
    },
    {
      name: 'Succeed ends the flow; later states do not run',
      flow: flowOf('  - Type: Pass\n    Name: A\n    Next: Done\n  - Type: Succeed\n    Name: Done\n  - Type: Fail\n    Name: Never\n    Code: Unreachable\n'),
      input: { k: 'v' },
      output: { k: 'v' },
    },
    {
      name: 'Succeed applies its OutputConstructor',
      flow: flowOf('  - Type: Succeed\n    Name: Done\n    OutputConstructor:\n      ok: true\n'),
      output: { ok: true },
    },
    { name: 'Fail reports Code and Detail', flow: flowOf('  - Type: Fail\n    Name: F\n    Code: Boom\n    Detail: it broke\n'), error: { errorCode: 'Boom', errorMessage: 'it broke' } },
    { name: 'Fail without Code reports FnF.Failed', flow: flowOf('  - Type: Fail\n    Name: F\n    Detail: no code\n'), error: { errorCode: 'FnF.Failed', errorMessage: 'no code' } },
    { name: 'Wait passes its input on', flow: flowOf('  - Type: Wait\n    Name: W\n    Seconds: 3\n    End: true\n'), input: { w: 1 }, output: { w: 1 } },
    {
      name: 'Choice passes its (constructed) input on',
      flow: flowOf('  - Type: Choice\n    Name: C\n    InputConstructor:\n      n.$: $Input.value\n    Branches:\n      - Condition: $Input.n > 1\n        Next: Big\n    Default: Big\n  - Type: Pass\n    Name: Big\n    End: true\n'),
      input: { value: 5, other: true },
      output: { n: 5 },
    },
    {
      name: 'Choice: the first true branch wins',
      flow: flowOf(
        '  - Type: Choice\n    Name: C\n    Branches:\n      - Condition: $Input.n > 1\n        Next: One\n      - Condition: $Input.n > 0\n        Next: Two\n    Default: Two\n' +
          '  - Type: Pass\n    Name: One\n    OutputConstructor:\n      took: one\n    End: true\n  - Type: Pass\n    Name: Two\n    OutputConstructor:\n      took: two\n    End: true\n',
      ),
      input: { n: 5 },
      output: { took: 'one' },
    },
    {
      name: 'Task calls a Local handler with its input when there are no Parameters',
      flow: flowOf('  - Type: Task\n    Name: T\n    Action: Local:echo\n    End: true\n'),
      input: { a: [1, 2] },
      handlers: echo,
      output: { a: [1, 2] },
    },
    {
      name: 'Task sends Parameters, and OutputConstructor reads $Output and $Input',
      flow: flowOf('  - Type: Task\n    Name: T\n    Action: Local:double\n    Parameters:\n      n.$: $Input.n\n      fixed: 1\n    OutputConstructor:\n      doubled.$: $Output.n\n      fixed.$: $Output.fixed\n      was.$: $Input.n\n    End: true\n'),
      input: { n: 4 },
      handlers: { double: (input) => ({ ...(input as { n: number }), n: (input as { n: number }).n * 2 }) },
      output: { doubled: 8, fixed: 1, was: 4 },
    },
    {
      name: 'Task: a handler returning nothing yields {}',
      flow: flowOf('  - Type: Task\n    Name: T\n    Action: Local:nothing\n    End: true\n'),
      handlers: { nothing: () => undefined },
      output: {},
    },
    {
      name: 'Task: handler results become plain JSON',
      flow: flowOf('  - Type: Task\n    Name: T\n    Action: Local:when\n    End: true\n'),
      handlers: { when: () => ({ at: new Date(Date.UTC(2024, 0, 2)) }) },
      output: { at: '2024-01-02T00:00:00.000Z' },
    },
    {
      name: 'Task: an error code surfaces as the ErrorCode',
      flow: flowOf('  - Type: Task\n    Name: T\n    Action: Local:boom\n    End: true\n'),
      handlers: { boom: () => Promise.reject(Object.assign(new Error('out of stock'), { code: 'OutOfStock' })) },
      error: { errorCode: 'OutOfStock', errorMessage: 'out of stock' },
    },
    {
      name: 'Task: an error name surfaces as the ErrorCode',
      flow: flowOf('  - Type: Task\n    Name: T\n    Action: Local:boom\n    End: true\n'),
      handlers: {
        boom: () => {
          class OrderNotFound extends Error {
            override name = 'OrderNotFound';
          }
          throw new OrderNotFound('no order 7');
        },
      },
      error: { errorCode: 'OrderNotFound', errorMessage: 'no order 7' },
    },
    {
      name: 'Task: a plain Error is FnF.TaskFailed',
      flow: flowOf('  - Type: Task\n    Name: T\n    Action: Local:boom\n    End: true\n'),
      handlers: {
        boom: () => {
          throw new Error('plain');
        },
      },
      error: { errorCode: 'FnF.TaskFailed', errorMessage: 'plain' },
    },
    {
      name: 'Task without a handler fails before anything runs',
      flow: flowOf('  - Type: Task\n    Name: T\n    Action: Local:missing\n    End: true\n'),
      error: { errorCode: 'FnF.ActionNotSupported', errorMessage: /Local:missing/ },
    },
    {
      name: 'Parallel: every branch gets the same input',
      flow: flowOf(
        '  - Type: Parallel\n    Name: P\n    End: true\n    Branches:\n' +
          '      - StartAt: A\n        States:\n          - Type: Pass\n            Name: A\n            OutputConstructor:\n              a.$: $Input.v\n            End: true\n' +
          '      - StartAt: B\n        States:\n          - Type: Task\n            Name: B\n            Action: Local:echo\n            End: true\n',
      ),
      input: { v: 9 },
      handlers: echo,
      output: { Branch0: { a: 9 }, Branch1: { v: 9 } },
    },
    {
      name: 'Parallel OutputConstructor sees the Branch map as $Output',
      flow: flowOf(
        '  - Type: Parallel\n    Name: P\n    End: true\n    OutputConstructor:\n      both.$: toArray($Output.Branch0.x, $Output.Branch1.x)\n    Branches:\n' +
          '      - StartAt: A\n        States:\n          - Type: Pass\n            Name: A\n            OutputConstructor:\n              x: 1\n            End: true\n' +
          '      - StartAt: A\n        States:\n          - Type: Pass\n            Name: A\n            OutputConstructor:\n              x: 2\n            End: true\n',
      ),
      output: { both: [1, 2] },
    },
    {
      name: 'Parallel: a failing branch fails the Parallel with its error',
      flow: flowOf(
        '  - Type: Parallel\n    Name: P\n    End: true\n    Branches:\n' +
          '      - StartAt: A\n        States:\n          - Type: Wait\n            Name: A\n            Seconds: 5\n            End: true\n' +
          '      - StartAt: B\n        States:\n          - Type: Fail\n            Name: B\n            Code: BranchBroke\n            Detail: b\n',
      ),
      error: { errorCode: 'BranchBroke', errorMessage: 'b' },
    },
    {
      name: 'Map runs the processor once per item and returns {Items}',
      flow: flowOf('  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Processor:\n      StartAt: Sq\n      States:\n        - Type: Task\n          Name: Sq\n          Action: Local:square\n          End: true\n'),
      input: { list: [1, 2, 3] },
      handlers: { square: (n) => ({ sq: (n as number) * (n as number) }) },
      output: { Items: [{ sq: 1 }, { sq: 4 }, { sq: 9 }] },
    },
    {
      name: 'Map items that are maps reach the processor as $Input',
      flow: flowOf('  - Type: Map\n    Name: M\n    ItemsPath: $Context.Current.Input.orders\n    End: true\n    Processor:\n      StartAt: Id\n      States:\n        - Type: Pass\n          Name: Id\n          OutputConstructor:\n            id.$: $Input.id\n          End: true\n'),
      input: { orders: [{ id: 'a', x: 1 }, { id: 'b' }] },
      output: { Items: [{ id: 'a' }, { id: 'b' }] },
    },
    {
      name: 'Map over an empty list',
      flow: flowOf('  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Processor:\n      StartAt: P\n      States:\n        - Type: Pass\n          Name: P\n          End: true\n'),
      input: { list: [] },
      output: { Items: [] },
    },
    {
      name: 'Map accepts the documented MaxConcuccency spelling',
      flow: flowOf('  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    MaxConcuccency: 2\n    End: true\n    Processor:\n      StartAt: P\n      States:\n        - Type: Pass\n          Name: P\n          End: true\n'),
      input: { list: ['x', 'y', 'z'] },
      output: { Items: ['x', 'y', 'z'] },
    },
    {
      name: 'Map: ItemsPath that is not an array is FnF.RuntimeError',
      flow: flowOf('  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Processor:\n      StartAt: P\n      States:\n        - Type: Pass\n          Name: P\n          End: true\n'),
      input: { list: 'nope' },
      error: { errorCode: 'FnF.RuntimeError', errorMessage: /must yield an array/ },
    },
    {
      name: 'Map: a failing item fails the Map',
      flow: flowOf('  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Processor:\n      StartAt: Check\n      States:\n        - Type: Choice\n          Name: Check\n          Branches:\n            - Condition: $Input > 2\n              Next: Bad\n          Default: Ok\n        - Type: Pass\n          Name: Ok\n          End: true\n        - Type: Fail\n          Name: Bad\n          Code: TooBig\n'),
      input: { list: [1, 2, 3] },
      error: { errorCode: 'TooBig' },
    },
    {
      name: 'Nested scopes: Choice inside a Parallel branch inside a Map',
      flow: flowOf(
        '  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Processor:\n      StartAt: P\n      States:\n        - Type: Parallel\n          Name: P\n          End: true\n          Branches:\n' +
          '            - StartAt: C\n              States:\n                - Type: Choice\n                  Name: C\n                  Branches:\n                    - Condition: $Input.odd\n                      Next: Odd\n                  Default: Even\n' +
          '                - Type: Pass\n                  Name: Odd\n                  OutputConstructor:\n                    kind: odd\n                  End: true\n                - Type: Pass\n                  Name: Even\n                  OutputConstructor:\n                    kind: even\n                  End: true\n',
      ),
      input: { list: [{ odd: true }, { odd: false }] },
      output: { Items: [{ Branch0: { kind: 'odd' } }, { Branch0: { kind: 'even' } }] },
    },
  ];
  test.each(cases)('$name', check);
});

// ---------------------------------------------------------------------------------------------------------------
// 3. Constructors, $Context and $Global.

describe('constructors and context', () => {
  const cases: Case[] = [
    {
      name: 'InputConstructor and OutputConstructor: nested maps, lists, literals and .$ keys',
      flow: flowOf(
        '  - Type: Pass\n    Name: P\n    End: true\n    InputConstructor:\n      user:\n        id.$: $Input.id\n        tags:\n          - static\n          - tag.$: $Input.tag\n      literal: $Input.id\n    OutputConstructor:\n      copy.$: $Input.user\n      plain: 1\n',
      ),
      input: { id: 7, tag: 'vip' },
      output: { copy: { id: 7, tags: ['static', { tag: 'vip' }] }, plain: 1 },
    },
    {
      name: 'a key without .$ is a literal string, even if it looks like an expression',
      flow: flowOf('  - Type: Pass\n    Name: P\n    End: true\n    InputConstructor:\n      a: $Input.x\n      b: format("{}", 1)\n'),
      input: { x: 1 },
      output: { a: '$Input.x', b: 'format("{}", 1)' },
    },
    {
      name: '$Context: Execution.Name, Execution.Input, Current.Name, Current.Input',
      flow: flowOf(
        '  - Type: Pass\n    Name: First\n    InputConstructor:\n      changed: true\n    Next: Second\n  - Type: Pass\n    Name: Second\n    End: true\n    OutputConstructor:\n      exec.$: $Context.Execution.Name\n      original.$: $Context.Execution.Input\n      state.$: $Context.Current.Name\n      current.$: $Context.Current.Input\n      flow.$: $Context.Flow.Name\n',
      ),
      input: { start: 1 },
      output: { exec: 'exec-1', original: { start: 1 }, state: 'Second', current: { changed: true }, flow: 'test' },
    },
    {
      name: '$Context.Current.Output in OutputConstructor is the raw result',
      flow: flowOf('  - Type: Task\n    Name: T\n    Action: Local:echo\n    Parameters:\n      r: raw\n    OutputConstructor:\n      out.$: $Context.Current.Output.r\n    End: true\n'),
      handlers: echo,
      output: { out: 'raw' },
    },
    {
      name: 'GlobalConstructor writes $Global from the raw $Output; OutputConstructor sees the value before it',
      flow: flowOf(
        '  - Type: Task\n    Name: T\n    Action: Local:echo\n    Parameters:\n      token: t-1\n    OutputConstructor:\n      before.$: $Global.token\n    GlobalConstructor:\n      token.$: $Output.token\n    Next: Later\n' +
          '  - Type: Pass\n    Name: Later\n    End: true\n    OutputConstructor:\n      before.$: $Input.before\n      after.$: $Global.token\n',
      ),
      handlers: echo,
      output: { before: null, after: 't-1' },
    },
  ];
  test.each(cases)('$name', async (c) => {
    const result = await runFlow(c.flow, c.input ?? {}, { handlers: c.handlers ?? {}, execute: { executionName: 'exec-1' } });
    expect(result.errorMessage).toBeUndefined();
    expect(result.output).toEqual(c.output);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 4. Choice operators: condition + input → branch taken.

describe('Choice operators', () => {
  const choice = (condition: string) =>
    flowOf(
      `  - Type: Choice\n    Name: C\n    Branches:\n      - Condition: ${JSON.stringify(condition)}\n        Next: Yes\n    Default: No\n` +
        '  - Type: Pass\n    Name: Yes\n    OutputConstructor:\n      took: yes\n    End: true\n  - Type: Pass\n    Name: No\n    OutputConstructor:\n      took: no\n    End: true\n',
    );
  const cases: Array<[string, Record<string, unknown>, 'yes' | 'no']> = [
    ['$Input.s == "ready"', { s: 'ready' }, 'yes'],
    ['$Input.s == "ready"', { s: 'other' }, 'no'],
    ['$Input.s == `ready`', { s: 'ready' }, 'yes'],
    ["$Input.s == 'ready'", { s: 'ready' }, 'yes'],
    ['$Input.s != "ready"', { s: 'other' }, 'yes'],
    ['$Input.s != "ready"', { s: 'ready' }, 'no'],
    ['$Input.n > 3', { n: 4 }, 'yes'],
    ['$Input.n > 3', { n: 3 }, 'no'],
    ['$Input.n >= 3', { n: 3 }, 'yes'],
    ['$Input.n >= 3', { n: 2 }, 'no'],
    ['$Input.n < 12.5', { n: 12.4 }, 'yes'],
    ['$Input.n < 12.5', { n: 12.5 }, 'no'],
    ['$Input.n <= 12.5', { n: 12.5 }, 'yes'],
    ['$Input.n <= 12.5', { n: 13 }, 'no'],
    ['$Input.s < "b"', { s: 'a' }, 'yes'],
    ['$Input.s > "b"', { s: 'a' }, 'no'],
    ['$Input.a == 1 && $Input.b == 2', { a: 1, b: 2 }, 'yes'],
    ['$Input.a == 1 && $Input.b == 2', { a: 1, b: 3 }, 'no'],
    ['$Input.a == 1 || $Input.b == 2', { a: 0, b: 2 }, 'yes'],
    ['$Input.a == 1 || $Input.b == 2', { a: 0, b: 0 }, 'no'],
    ['!($Input.a == 1)', { a: 2 }, 'yes'],
    ['!$Input.flag', { flag: true }, 'no'],
    ['-$Input.n > 0', { n: -1 }, 'yes'],
    ['$Input.n == -1', { n: -1 }, 'yes'],
    ['$Input.flag == true', { flag: true }, 'yes'],
    ['$Input.flag == false', { flag: true }, 'no'],
    ['$Input.flag', { flag: true }, 'yes'],
    ['"red" in $Input.colors', { colors: ['blue', 'red'] }, 'yes'],
    ['"red" in $Input.colors', { colors: ['blue'] }, 'no'],
    ['"size" in $Input', { size: 0 }, 'yes'],
    ['"size" in $Input', { other: 0 }, 'no'],
    ['$Context.Current.Input.Size>=1024', { Size: 2048 }, 'yes'],
    ['$Context.Current.Input.Size>=1024', { Size: 10 }, 'no'],
    ['$Input.a == 1 || $Input.b == 2 && $Input.c == 3', { a: 1, b: 0, c: 0 }, 'yes'],
    ['($Input.a == 1 || $Input.b == 2) && $Input.c == 3', { a: 1, b: 0, c: 0 }, 'no'],
    ['$Input.missing == "x"', {}, 'no'],
    ['$Input.missing > 1', {}, 'no'],
    ['$Input.n == "1"', { n: 1 }, 'no'],
    ['$Input.obj == $Input.copy', { obj: { a: [1] }, copy: { a: [1] } }, 'yes'],
    ['$Input.list[1] == "b"', { list: ['a', 'b'] }, 'yes'],
    ['$Input.map["odd-key"] == 1', { map: { 'odd-key': 1 } }, 'yes'],
    ['length($Input.s) > 3', { s: 'abcd' }, 'yes'],
    ['$Input.n % 2 == 0 && $Input.n * 2 + 1 - 1 == 8 && $Input.n / 2 == 2', { n: 4 }, 'yes'],
  ];
  test.each(cases)('%s with %j → %s', async (condition, input, took) => {
    const result = await runFlow(choice(condition), input);
    expect(result.errorMessage).toBeUndefined();
    expect(result.output).toEqual({ took });
  });

  test('a condition that fails to evaluate fails the execution', async () => {
    const result = await runFlow(choice('$Input.n / 0 > 1'), { n: 1 });
    expect(result).toMatchObject({ status: 'Failed', errorCode: 'FnF.RuntimeError' });
    expect(result.errorMessage).toMatch(/division by zero/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 5. Built-in functions, each through an InputConstructor.

describe('built-in functions', () => {
  const viaPass = (expression: string) => flowOf(`  - Type: Pass\n    Name: P\n    End: true\n    InputConstructor:\n      v.$: ${JSON.stringify(expression)}\n`);
  const input = { name: 'world', list: [3, 1, 3], map: { a: 1, b: 2 }, text: 'a,b,c', n: 5 };
  const cases: Array<[string, unknown]> = [
    ['arrayContains($Input.list, 3)', true],
    ['arrayContains($Input.list, 4)', false],
    [`arrayContains(toArray(stringToJson('{"a":1}')), stringToJson('{"a":1}'))`, true],
    ['arrayUnique([1,2,3,1])', [1, 2, 3]],
    ['arrayUnique($Input.list)', [3, 1]],
    ['format("hello {}", "world")', 'hello world'],
    ['format("{}: {} items {}", $Input.name, length($Input.list), $Input.map)', 'world: 3 items {"a":1,"b":2}'],
    ['fromBase64("Rm5G")', 'FnF'],
    ['toBase64("FnF")', 'Rm5G'],
    ['fromBase64(toBase64("héllo ✓"))', 'héllo ✓'],
    [`stringToJson('{"a":1}')`, { a: 1 }],
    [`fromJSON('[1,"x"]')`, [1, 'x']],
    ['jsonToString($Input.map)', '{"a":1,"b":2}'],
    ['hash("abc", "MD5")', '900150983cd24fb0d6963f7d28e17f72'],
    ['hash("", "MD5")', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['hash("The quick brown fox jumps over the lazy dog", "MD5")', '9e107d9d372bb6826bd81d3542a419d6'],
    ['hash("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "MD5")', '57edf4a22be3c955ac49da2e2107b67a'],
    ['hash("abc", "SHA-1")', 'a9993e364706816aba3e25717850c26c9cd0d89d'],
    ['hash("abc", "SHA-256")', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['hash("abc", "SHA-512")', 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f'],
    ['jsonMerge($Input.map, stringToJson(`{"b":3,"c":4}`))', { a: 1, b: 3, c: 4 }],
    ['length($Input.list)', 3],
    ['length($Input.map)', 2],
    ['length("héllo")', 5],
    ['mapKeys($Input.map)', ['a', 'b']],
    ['mapValues($Input.map)', [1, 2]],
    ['regexMatchString("^w.r", $Input.name)', true],
    ['regexMatchString("^x", $Input.name)', false],
    ['split($Input.text, ",")', ['a', 'b', 'c']],
    ['toArray(1, "two", $Input.n)', [1, 'two', 5]],
    ['get($Input.list, 1)', 1],
    ['get($Input.map, "b")', 2],
    ['get($Input.map, "zzz")', null],
    ['intAdd($Input.n, 10)', 15],
    ['randomInt(10)', 5],
    ['randomInt(100, 200)', 150],
    ['uuid()', 'uuid-0'],
    ['length(split(format("{},{}", $Input.name, "x"), ","))', 2],
    ['$Input.name + "!"', 'world!'],
  ];
  test.each(cases)('%s', async (expression, expected) => {
    let n = 0;
    const result = await runFlow(viaPass(expression), input, { random: () => 0.5, uuid: () => `uuid-${n++}`, execute: { executionName: 'e' } });
    expect(result.errorMessage).toBeUndefined();
    expect(result.output).toEqual({ v: expected });
  });

  const failures: Array<[string, RegExp]> = [
    ['fromBase64("%%%")', /not base64/],
    ['stringToJson("{nope")', /not JSON/],
    ['hash("abc", "CRC32")', /supports MD5/],
    ['length(5)', /expects an array, a map or a string/],
    ['intAdd(1.5, 1)', /expects an integer/],
    ['format("{} {}", 1)', /2 placeholder\(s\) but 1 value/],
    ['arrayUnique("x")', /expects an array/],
    ['"a" in "abc"', /operator "in" cannot take a string/],
  ];
  test.each(failures)('%s fails with FnF.RuntimeError', async (expression, message) => {
    const result = await runFlow(viaPass(expression), input);
    expect(result).toMatchObject({ status: 'Failed', errorCode: 'FnF.RuntimeError' });
    expect(result.errorMessage).toMatch(message);
  });

  test('functions nest up to 10 deep, and no deeper', () => {
    const nest = (depth: number) => 'length('.repeat(depth - 1) + 'toArray(1)' + ')'.repeat(depth - 1);
    expect(() => loadFlowDefinition(viaPass(nest(10)))).not.toThrow();
    expect(() => loadFlowDefinition(viaPass(nest(11)))).toThrow('State "P": InputConstructor.v.$: functions may be nested at most 10 deep');
  });
});
