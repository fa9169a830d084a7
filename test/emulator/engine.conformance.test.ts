/**
 * FDL conformance table: definition + input → expected output or error, on virtual time (nothing sleeps).
 * Section 1 replays every example definition of the official FDL documentation (the state pages and the legacy
 * `type: flow` spec; docs/emulator.md, Sources).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createEngine,
  FlowDefinitionError,
  LosslessNumber,
  loadFlowDefinition,
  stringifyExact,
  virtualTime,
  type TaskHandlers,
} from '../../src/emulator/engine/index.js';
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
// 1. The documented examples (the official FDL pages), verbatim.

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
const DOC_SUCCEED = DOC_PARALLEL.replace('StartAt: Pass1', 'StartAt: Succeed1').replace(
  '- Type: Pass\n            Name: Pass1\n            End: true\n            OutputConstructor:\n              FieldA: 123',
  '- Type: Succeed\n            Name: Succeed1',
);

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

describe('documented examples (the official FDL pages)', () => {
  const cases: Case[] = [
    { name: 'A. Pass InputConstructor replaces the input', flow: DOC_PASS, input: { requestId: 'abc-123' }, output: { FieldA: 123 } },
    { name: 'B. Choice: data == "ready" goes to Pass1', flow: DOC_CHOICE, input: { data: 'ready' }, output: { data: 'ready' } },
    { name: 'B. Choice: anything else goes to Default Pass2', flow: DOC_CHOICE, input: { data: 'later' }, output: { data: 'later' } },
    { name: 'C. Parallel output uses Branch<i> keys', flow: DOC_PARALLEL, input: { x: 1 }, output: { Branch0: { FieldA: 123 }, Branch1: { FieldA: 321 } } },
    {
      name: 'Succeed page: a Succeed ends its branch with its input',
      flow: DOC_SUCCEED,
      input: { x: 1 },
      output: { Branch0: { x: 1 }, Branch1: { FieldA: 321 } },
    },
    { name: 'D. Fail: status == "true" goes to Pass1', flow: DOC_FAIL, input: { status: 'true' }, output: { status: 'true' } },
    {
      name: 'D. Fail: otherwise fails with the Code (no Detail given)',
      flow: DOC_FAIL,
      input: { status: 'false' },
      error: { errorCode: 'customBizCode', errorMessage: '' },
    },
    { name: 'D. Fail: a missing status also fails', flow: DOC_FAIL, input: {}, error: { errorCode: 'customBizCode' } },
    {
      name: 'Task shape: loads; FC:InvokeFunction is not emulated',
      flow: DOC_TASK,
      input: { x: 1 },
      error: { errorCode: 'FnF.ActionNotSupported', errorMessage: /FC:InvokeFunction/ },
    },
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

  test('the legacy `type: flow` example is refused with a clear message', () => {
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
      flow: flowOf(
        '  - Type: Pass\n    Name: A\n    Next: B\n    OutputConstructor:\n      step: a\n  - Type: Pass\n    Name: B\n    End: true\n    OutputConstructor:\n      prev.$: $Input.step\n      step: b\n',
      ),
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
    {
      name: 'Fail reports Code and Detail',
      flow: flowOf('  - Type: Fail\n    Name: F\n    Code: Boom\n    Detail: it broke\n'),
      error: { errorCode: 'Boom', errorMessage: 'it broke' },
    },
    {
      name: 'Fail without Code reports FnF.Failed',
      flow: flowOf('  - Type: Fail\n    Name: F\n    Detail: no code\n'),
      error: { errorCode: 'FnF.Failed', errorMessage: 'no code' },
    },
    { name: 'Wait passes its input on', flow: flowOf('  - Type: Wait\n    Name: W\n    Seconds: 3\n    End: true\n'), input: { w: 1 }, output: { w: 1 } },
    {
      name: 'Choice passes its (constructed) input on',
      flow: flowOf(
        '  - Type: Choice\n    Name: C\n    InputConstructor:\n      n.$: $Input.value\n    Branches:\n      - Condition: $Input.n > 1\n        Next: Big\n    Default: Big\n  - Type: Pass\n    Name: Big\n    End: true\n',
      ),
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
      flow: flowOf(
        '  - Type: Task\n    Name: T\n    Action: Local:double\n    Parameters:\n      n.$: $Input.n\n      fixed: 1\n    OutputConstructor:\n      doubled.$: $Output.n\n      fixed.$: $Output.fixed\n      was.$: $Input.n\n    End: true\n',
      ),
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
      flow: flowOf(
        '  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Processor:\n      StartAt: Sq\n      States:\n        - Type: Task\n          Name: Sq\n          Action: Local:square\n          End: true\n',
      ),
      input: { list: [{ n: 1 }, { n: 2 }, { n: 3 }] },
      handlers: { square: (item) => ({ sq: (item as { n: number }).n ** 2 }) },
      output: { Items: [{ sq: 1 }, { sq: 4 }, { sq: 9 }] },
    },
    {
      name: 'Map items that are maps reach the processor as $Input',
      flow: flowOf(
        '  - Type: Map\n    Name: M\n    ItemsPath: $Context.Current.Input.orders\n    End: true\n    Processor:\n      StartAt: Id\n      States:\n        - Type: Pass\n          Name: Id\n          OutputConstructor:\n            id.$: $Input.id\n          End: true\n',
      ),
      input: { orders: [{ id: 'a', x: 1 }, { id: 'b' }] },
      output: { Items: [{ id: 'a' }, { id: 'b' }] },
    },
    {
      name: 'Map over an empty list',
      flow: flowOf(
        '  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Processor:\n      StartAt: P\n      States:\n        - Type: Pass\n          Name: P\n          End: true\n',
      ),
      input: { list: [] },
      output: { Items: [] },
    },
    {
      name: 'Map accepts the documented MaxConcuccency spelling',
      flow: flowOf(
        '  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    MaxConcuccency: 2\n    End: true\n    Processor:\n      StartAt: P\n      States:\n        - Type: Pass\n          Name: P\n          End: true\n',
      ),
      input: { list: [{ v: 'x' }, { v: 'y' }, { v: 'z' }] },
      output: { Items: [{ v: 'x' }, { v: 'y' }, { v: 'z' }] },
    },
    {
      // Every state input is a JSON object (CloudFlow FDL, "Input and output"), so every item must be one.
      name: 'Map: an item that is not an object is FnF.RuntimeError',
      flow: flowOf(
        '  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Processor:\n      StartAt: P\n      States:\n        - Type: Pass\n          Name: P\n          End: true\n',
      ),
      input: { list: [{ v: 1 }, 'y'] },
      error: { errorCode: 'FnF.RuntimeError', errorMessage: /must yield an array of objects, but item 1 is "y"/ },
    },
    {
      name: 'Map: ItemsPath that is not an array is FnF.RuntimeError',
      flow: flowOf(
        '  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Processor:\n      StartAt: P\n      States:\n        - Type: Pass\n          Name: P\n          End: true\n',
      ),
      input: { list: 'nope' },
      error: { errorCode: 'FnF.RuntimeError', errorMessage: /must yield an array/ },
    },
    {
      name: 'Map: a failing item fails the Map',
      flow: flowOf(
        '  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Processor:\n      StartAt: Check\n      States:\n        - Type: Choice\n          Name: Check\n          Branches:\n            - Condition: $Input.n > 2\n              Next: Bad\n          Default: Ok\n        - Type: Pass\n          Name: Ok\n          End: true\n        - Type: Fail\n          Name: Bad\n          Code: TooBig\n',
      ),
      input: { list: [{ n: 1 }, { n: 2 }, { n: 3 }] },
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
      flow: flowOf(
        '  - Type: Task\n    Name: T\n    Action: Local:echo\n    Parameters:\n      r: raw\n    OutputConstructor:\n      out.$: $Context.Current.Output.r\n    End: true\n',
      ),
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
  const viaPass = (expression: string) =>
    flowOf(`  - Type: Pass\n    Name: P\n    End: true\n    InputConstructor:\n      v.$: ${JSON.stringify(expression)}\n`);
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
    [
      'hash("abc", "SHA-512")',
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    ],
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

// ---------------------------------------------------------------------------------------------------------------
// 6. Retry and Catch: counts observed through handlers, intervals through the virtual clock.

/** A handler that fails with `code` for its first `failures` calls, recording when each call happened. */
function flaky(failures: number, code = 'Flaky') {
  const calls: Array<{ at: number; retryCount: number; input: unknown }> = [];
  const handler = (input: unknown, ctx: { now(): number; retryCount: number }) => {
    calls.push({ at: ctx.now(), retryCount: ctx.retryCount, input });
    if (calls.length <= failures) throw Object.assign(new Error(`failure ${calls.length}`), { code });
    return { ok: true, calls: calls.length };
  };
  return { calls, handler };
}

const taskWith = (errorHandling: string, extraStates = '') =>
  flowOf(`  - Type: Task\n    Name: T\n    Action: Local:work\n${errorHandling}    End: true\n${extraStates}`);

describe('Retry and Catch', () => {
  test('retries until success, waiting IntervalSeconds × BackoffRate^n between attempts', async () => {
    const { calls, handler } = flaky(3);
    const flow = taskWith('    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 3\n        IntervalSeconds: 2\n        BackoffRate: 2\n');
    const result = await runFlow(flow, {}, { handlers: { work: handler } });
    expect(result).toMatchObject({ status: 'Succeeded', output: { ok: true, calls: 4 } });
    expect(calls.map((c) => c.at)).toEqual([0, 2000, 6000, 14000]);
    expect(calls.map((c) => c.retryCount)).toEqual([0, 1, 2, 3]);
  });

  test('without BackoffRate the interval is constant', async () => {
    const { calls, handler } = flaky(2);
    const flow = taskWith('    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 5\n        IntervalSeconds: 3\n');
    await runFlow(flow, {}, { handlers: { work: handler } });
    expect(calls.map((c) => c.at)).toEqual([0, 3000, 6000]);
  });

  test('MaxBackoffSeconds caps the interval', async () => {
    const { calls, handler } = flaky(4);
    const flow = taskWith(
      '    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 4\n        IntervalSeconds: 10\n        BackoffRate: 3\n        MaxBackoffSeconds: 20\n',
    );
    await runFlow(flow, {}, { handlers: { work: handler } });
    expect(calls.map((c) => c.at)).toEqual([0, 10_000, 30_000, 50_000, 70_000]);
  });

  test('when retries run out the error fails the execution (1 + MaxAttempts calls)', async () => {
    const { calls, handler } = flaky(100);
    const flow = taskWith('    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 2\n        IntervalSeconds: 1\n');
    const result = await runFlow(flow, {}, { handlers: { work: handler } });
    expect(result).toMatchObject({ status: 'Failed', errorCode: 'Flaky', errorMessage: 'failure 3' });
    expect(calls).toHaveLength(3);
  });

  test('MaxAttempts: 0 means no retry', async () => {
    const { calls, handler } = flaky(100);
    const flow = taskWith('    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 0\n        IntervalSeconds: 1\n');
    expect(await runFlow(flow, {}, { handlers: { work: handler } })).toMatchObject({ status: 'Failed', errorCode: 'Flaky' });
    expect(calls).toHaveLength(1);
  });

  test('only the first matching Retry rule applies, even when a later one would allow more', async () => {
    const { calls, handler } = flaky(100);
    const flow = taskWith(
      '    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 1\n        IntervalSeconds: 1\n      - Errors: [FnF.ALL]\n        MaxAttempts: 5\n        IntervalSeconds: 1\n',
    );
    await runFlow(flow, {}, { handlers: { work: handler } });
    expect(calls).toHaveLength(2);
  });

  test('FnF.ALL retries any error; a rule for another error does not', async () => {
    const all = flaky(1, 'Whatever');
    const flowAll = taskWith(
      '    Retry:\n      - Errors: [Other]\n        MaxAttempts: 5\n        IntervalSeconds: 1\n      - Errors: [FnF.ALL]\n        MaxAttempts: 1\n        IntervalSeconds: 1\n',
    );
    expect(await runFlow(flowAll, {}, { handlers: { work: all.handler } })).toMatchObject({ status: 'Succeeded' });
    expect(all.calls).toHaveLength(2);

    const other = flaky(1, 'Whatever');
    const flowOther = taskWith('    Retry:\n      - Errors: [Other]\n        MaxAttempts: 5\n        IntervalSeconds: 1\n');
    expect(await runFlow(flowOther, {}, { handlers: { work: other.handler } })).toMatchObject({ status: 'Failed', errorCode: 'Whatever' });
    expect(other.calls).toHaveLength(1);
  });

  test('each Retry rule counts its own attempts', async () => {
    let n = 0;
    const codes = ['A', 'B', 'A', 'B', 'A'];
    const work = () => {
      const code = codes[n++];
      if (code) throw Object.assign(new Error(code), { code });
      return { done: n };
    };
    const flow = taskWith(
      '    Retry:\n      - Errors: [A]\n        MaxAttempts: 3\n        IntervalSeconds: 1\n      - Errors: [B]\n        MaxAttempts: 2\n        IntervalSeconds: 1\n',
    );
    expect(await runFlow(flow, {}, { handlers: { work } })).toMatchObject({ status: 'Succeeded', output: { done: 6 } });
  });

  const fallbacks =
    '  - Type: Pass\n    Name: HandledA\n    OutputConstructor:\n      by: A\n      error.$: $Input\n    End: true\n' +
    '  - Type: Pass\n    Name: HandledAll\n    OutputConstructor:\n      by: ALL\n      error.$: $Input\n    End: true\n' +
    '  - Type: Pass\n    Name: HandledFlaky\n    OutputConstructor:\n      by: Flaky\n    End: true\n';

  test('Retry runs before Catch: the fallback runs only after retries are spent', async () => {
    const { calls, handler } = flaky(100);
    const flow = taskWith(
      '    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 2\n        IntervalSeconds: 1\n    Catch:\n      - Errors: [FnF.ALL]\n        Next: HandledAll\n',
      fallbacks,
    );
    const result = await runFlow(flow, {}, { handlers: { work: handler } });
    expect(calls).toHaveLength(3);
    expect(result.output).toEqual({ by: 'ALL', error: { Code: 'Flaky', Detail: 'failure 3' } });
  });

  test('the first matching Catch wins, in list order', async () => {
    const { handler } = flaky(100);
    const flow = taskWith(
      '    Catch:\n      - Errors: [A]\n        Next: HandledA\n      - Errors: [FnF.ALL]\n        Next: HandledAll\n      - Errors: [Flaky]\n        Next: HandledFlaky\n',
      fallbacks,
    );
    expect((await runFlow(flow, {}, { handlers: { work: handler } })).output).toMatchObject({ by: 'ALL' });
  });

  test('a Catch listing several names matches any of them', async () => {
    const { handler } = flaky(100);
    const flow = taskWith('    Catch:\n      - Errors: [A, Flaky]\n        Next: HandledFlaky\n', fallbacks);
    expect((await runFlow(flow, {}, { handlers: { work: handler } })).output).toEqual({ by: 'Flaky' });
  });

  test('Catch OutputConstructor builds the fallback input from $Input, $Output and $Context.Current.Error', async () => {
    const { handler } = flaky(100);
    const flow = taskWith(
      '    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 1\n        IntervalSeconds: 1\n    Catch:\n      - Errors: [Flaky]\n        Next: Fallback\n        OutputConstructor:\n          order.$: $Input.order\n          code.$: $Context.Current.Error.Code\n          detail.$: $Context.Current.Error.Detail\n          same.$: $Output.Code\n          retries.$: $Context.Current.RetryCount\n',
      '  - Type: Pass\n    Name: Fallback\n    End: true\n',
    );
    const result = await runFlow(flow, { order: 'o-1' }, { handlers: { work: handler } });
    expect(result.output).toEqual({ order: 'o-1', code: 'Flaky', detail: 'failure 2', same: 'Flaky', retries: 1 });
  });

  test('$Context.Current.RetryCount is visible to Parameters', async () => {
    const { calls, handler } = flaky(2);
    const flow = taskWith(
      '    Parameters:\n      attempt.$: $Context.Current.RetryCount\n    Retry:\n      - Errors: [FnF.ALL]\n        MaxAttempts: 2\n        IntervalSeconds: 1\n',
    );
    await runFlow(flow, {}, { handlers: { work: handler } });
    expect(calls.map((c) => c.input)).toEqual([{ attempt: 0 }, { attempt: 1 }, { attempt: 2 }]);
  });

  test('Parallel Retry re-runs the whole Parallel; its Catch catches a Fail raised in a branch', async () => {
    const { calls, handler } = flaky(1);
    const flow = flowOf(
      '  - Type: Parallel\n    Name: P\n    Next: Done\n    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 1\n        IntervalSeconds: 5\n    Branches:\n' +
        '      - StartAt: W\n        States:\n          - Type: Task\n            Name: W\n            Action: Local:work\n            End: true\n' +
        '  - Type: Parallel\n    Name: Done\n    End: true\n    Catch:\n      - Errors: [Refused]\n        Next: Caught\n    Branches:\n' +
        '      - StartAt: F\n        States:\n          - Type: Fail\n            Name: F\n            Code: Refused\n            Detail: no\n' +
        '  - Type: Pass\n    Name: Caught\n    End: true\n',
    );
    const result = await runFlow(flow, {}, { handlers: { work: handler } });
    expect(calls.map((c) => c.at)).toEqual([0, 5000]);
    expect(result.output).toEqual({ Code: 'Refused', Detail: 'no' });
  });

  test('Map Catch handles a failing iteration', async () => {
    const flow = flowOf(
      '  - Type: Map\n    Name: M\n    ItemsPath: $Input.list\n    End: true\n    Catch:\n      - Errors: [FnF.ALL]\n        Next: Caught\n        OutputConstructor:\n          failed.$: $Context.Current.Error.Code\n' +
        '    Processor:\n      StartAt: W\n      States:\n        - Type: Task\n          Name: W\n          Action: Local:work\n          End: true\n' +
        '  - Type: Pass\n    Name: Caught\n    End: true\n',
    );
    const work = (item: unknown) => {
      if ((item as { n: number }).n === 2) throw Object.assign(new Error('two'), { code: 'NoTwos' });
      return item;
    };
    expect((await runFlow(flow, { list: [{ n: 1 }, { n: 2 }, { n: 3 }] }, { handlers: { work } })).output).toEqual({ failed: 'NoTwos' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 7. Concurrency of Map and Parallel, observed with handlers on virtual time.

function concurrencyProbe(holdMs = 1000) {
  const probe = { inFlight: 0, max: 0 };
  const handler = async (input: unknown, ctx: { sleep(ms: number): Promise<void> }) => {
    probe.inFlight++;
    probe.max = Math.max(probe.max, probe.inFlight);
    try {
      await ctx.sleep(holdMs);
    } finally {
      probe.inFlight--;
    }
    return { item: input };
  };
  return { probe, handler };
}

const mapFlow = (concurrency: string) =>
  flowOf(
    `  - Type: Map\n    Name: M\n    ItemsPath: $Input.items\n${concurrency}    End: true\n    Processor:\n      StartAt: W\n      States:\n        - Type: Task\n          Name: W\n          Action: Local:work\n          End: true\n`,
  );

describe('concurrency', () => {
  test('Map never runs more than MaxConcurrency iterations at once, and keeps item order', async () => {
    const { probe, handler } = concurrencyProbe();
    const items = Array.from({ length: 10 }, (_, i) => ({ i }));
    const result = await runFlow(mapFlow('    MaxConcurrency: 3\n'), { items }, { handlers: { work: handler } });
    expect(probe.max).toBe(3);
    expect(result.elapsed).toBe(4000); // ceil(10 / 3) rounds of 1 s
    expect(result.output).toEqual({ Items: items.map((item) => ({ item })) });
  });

  test('MaxConcurrency: 1 runs the items one after another', async () => {
    const { probe, handler } = concurrencyProbe();
    const result = await runFlow(mapFlow('    MaxConcurrency: 1\n'), { items: [{ i: 1 }, { i: 2 }, { i: 3 }] }, { handlers: { work: handler } });
    expect(probe.max).toBe(1);
    expect(result.elapsed).toBe(3000);
  });

  test('without MaxConcurrency, Map is bounded by the documented ceiling of 40', async () => {
    const { probe, handler } = concurrencyProbe();
    await runFlow(mapFlow(''), { items: Array.from({ length: 100 }, (_, i) => ({ i })) }, { handlers: { work: handler } });
    expect(probe.max).toBe(40);
  });

  test('Parallel branches run at the same time', async () => {
    const { probe, handler } = concurrencyProbe(2000);
    const branch = (i: number) =>
      `      - StartAt: W${i}\n        States:\n          - Type: Task\n            Name: W${i}\n            Action: Local:work\n            End: true\n`;
    const flow = flowOf(`  - Type: Parallel\n    Name: P\n    End: true\n    Branches:\n${[0, 1, 2].map(branch).join('')}`);
    const result = await runFlow(flow, { x: 1 }, { handlers: { work: handler } });
    expect(probe.max).toBe(3);
    expect(result.elapsed).toBe(2000);
  });

  test('a failing branch cancels its siblings (their sleeps abort)', async () => {
    let siblingFinished = false;
    const handlers = {
      slow: async (_: unknown, ctx: { sleep(ms: number): Promise<void> }) => {
        await ctx.sleep(10_000);
        siblingFinished = true;
      },
      bad: () => {
        throw Object.assign(new Error('bad'), { code: 'Bad' });
      },
    };
    const flow = flowOf(
      '  - Type: Parallel\n    Name: P\n    End: true\n    Branches:\n' +
        '      - StartAt: S\n        States:\n          - Type: Task\n            Name: S\n            Action: Local:slow\n            End: true\n' +
        '      - StartAt: B\n        States:\n          - Type: Task\n            Name: B\n            Action: Local:bad\n            End: true\n',
    );
    const result = await runFlow(flow, {}, { handlers });
    expect(result).toMatchObject({ status: 'Failed', errorCode: 'Bad', elapsed: 0 });
    expect(siblingFinished).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 8. Timeouts, the Express cap, stopping and time scaling (all on virtual time).

describe('timeouts', () => {
  const waitThenPass = (seconds: number, header = '') =>
    flowOf(`  - Type: Wait\n    Name: W\n    Seconds: ${seconds}\n    Next: After\n  - Type: Pass\n    Name: After\n    End: true\n`, header);

  test('Wait takes its Seconds of (virtual) time', async () => {
    expect(await runFlow(waitThenPass(7))).toMatchObject({ status: 'Succeeded', elapsed: 7000 });
  });

  test('Seconds.$ reads the wait from the input; a bad value is FnF.RuntimeError', async () => {
    const flow = flowOf('  - Type: Wait\n    Name: W\n    Seconds.$: $Input.delay\n    End: true\n');
    expect(await runFlow(flow, { delay: 4 })).toMatchObject({ status: 'Succeeded', elapsed: 4000 });
    expect(await runFlow(flow, { delay: 'soon' })).toMatchObject({ status: 'Failed', errorCode: 'FnF.RuntimeError' });
    expect(await runFlow(flow, { delay: 21 })).toMatchObject({ status: 'Failed', errorCode: 'FnF.RuntimeError' });
  });

  test('the flow Timeout ends the execution as TimedOut at the deadline', async () => {
    const result = await runFlow(waitThenPass(10, 'Timeout: 5\n'));
    expect(result).toMatchObject({ status: 'TimedOut', errorCode: 'FnF.Timeout', elapsed: 5000 });
    expect(result.errorMessage).toMatch(/flow Timeout of 5 s/);
    expect(result.output).toBeUndefined();
  });

  test('a flow that finishes inside its Timeout succeeds', async () => {
    expect(await runFlow(waitThenPass(4, 'Timeout: 5\n'))).toMatchObject({ status: 'Succeeded', elapsed: 4000 });
  });

  test('the Express 5-minute cap times out a looping flow at exactly 300 s', async () => {
    const loop = flowOf(
      '  - Type: Wait\n    Name: Tick\n    Seconds: 20\n    Next: Again\n  - Type: Choice\n    Name: Again\n    Branches:\n      - Condition: "true"\n        Next: Tick\n    Default: Tick\n',
    );
    const result = await runFlow(loop);
    expect(result).toMatchObject({ status: 'TimedOut', errorCode: 'FnF.Timeout', elapsed: 300_000 });
    expect(result.errorMessage).toMatch(/300 s maximum/);
  });

  test('a flow Timeout above 5 minutes is still capped at 5 minutes', async () => {
    const slowTask = flowOf('  - Type: Task\n    Name: T\n    Action: Local:slow\n    End: true\n', 'Timeout: 600\n');
    const handlers = { slow: (_: unknown, ctx: { sleep(ms: number): Promise<void> }) => ctx.sleep(3_600_000) };
    expect(await runFlow(slowTask, {}, { handlers })).toMatchObject({ status: 'TimedOut', elapsed: 300_000 });
  });

  test('maxDurationMs sets a different cap', async () => {
    expect(await runFlow(waitThenPass(10), {}, { maxDurationMs: 2000 })).toMatchObject({ status: 'TimedOut', elapsed: 2000 });
  });

  test('a handler that ignores its signal and never returns still times out', async () => {
    const flow = flowOf('  - Type: Task\n    Name: T\n    Action: Local:hang\n    End: true\n', 'Timeout: 3\n');
    const handlers = { hang: () => new Promise(() => undefined) };
    expect(await runFlow(flow, {}, { handlers })).toMatchObject({ status: 'TimedOut', elapsed: 3000 });
  });

  test('the execution timeout is not catchable by FnF.ALL', async () => {
    const flow = flowOf(
      '  - Type: Task\n    Name: T\n    Action: Local:slow\n    Catch:\n      - Errors: [FnF.ALL]\n        Next: Caught\n    End: true\n  - Type: Pass\n    Name: Caught\n    End: true\n',
      'Timeout: 2\n',
    );
    const handlers = { slow: (_: unknown, ctx: { sleep(ms: number): Promise<void> }) => ctx.sleep(10_000) };
    expect(await runFlow(flow, {}, { handlers })).toMatchObject({ status: 'TimedOut', elapsed: 2000 });
  });

  test('Task Timeout fails the task with FnF.Timeout and aborts the handler signal', async () => {
    let aborted = false;
    const handlers = {
      slow: async (_: unknown, ctx: { sleep(ms: number): Promise<void>; signal: AbortSignal }) => {
        ctx.signal.addEventListener('abort', () => (aborted = true));
        await ctx.sleep(60_000);
      },
    };
    const flow = flowOf('  - Type: Task\n    Name: T\n    Action: Local:slow\n    Timeout: 10\n    End: true\n');
    const result = await runFlow(flow, {}, { handlers });
    expect(result).toMatchObject({ status: 'Failed', errorCode: 'FnF.Timeout', elapsed: 10_000 });
    expect(aborted).toBe(true);
  });

  test('Task Timeout can be retried and caught like any error; Timeout.$ reads it from the input', async () => {
    let calls = 0;
    const handlers = {
      slow: async (_: unknown, ctx: { sleep(ms: number): Promise<void> }) => {
        calls++;
        await ctx.sleep(60_000);
      },
    };
    const flow = flowOf(
      '  - Type: Task\n    Name: T\n    Action: Local:slow\n    Timeout.$: $Input.limit\n    Retry:\n      - Errors: [FnF.Timeout]\n        MaxAttempts: 1\n        IntervalSeconds: 1\n    Catch:\n      - Errors: [FnF.Timeout]\n        Next: Late\n    End: true\n' +
        '  - Type: Pass\n    Name: Late\n    End: true\n',
    );
    const result = await runFlow(flow, { limit: 3 }, { handlers });
    expect(calls).toBe(2);
    expect(result).toMatchObject({ status: 'Succeeded', elapsed: 7000, output: { Code: 'FnF.Timeout' } });
  });

  test('Task Timeout: 0 means never', async () => {
    const handlers = { slow: (_: unknown, ctx: { sleep(ms: number): Promise<void> }) => ctx.sleep(100_000).then(() => ({ done: true })) };
    const flow = flowOf('  - Type: Task\n    Name: T\n    Action: Local:slow\n    Timeout: 0\n    End: true\n');
    expect(await runFlow(flow, {}, { handlers })).toMatchObject({ status: 'Succeeded', elapsed: 100_000 });
  });

  test('timeScale shrinks waits, backoffs and timeouts alike', async () => {
    expect(await runFlow(waitThenPass(10), {}, { timeScale: 0.01 })).toMatchObject({ status: 'Succeeded', elapsed: 100 });
    expect(await runFlow(waitThenPass(10, 'Timeout: 5\n'), {}, { timeScale: 0.01 })).toMatchObject({ status: 'TimedOut', elapsed: 50 });
    const { calls, handler } = flaky(1);
    await runFlow(
      taskWith('    Retry:\n      - Errors: [Flaky]\n        MaxAttempts: 1\n        IntervalSeconds: 2\n'),
      {},
      { handlers: { work: handler }, timeScale: 0.5 },
    );
    expect(calls.map((c) => c.at)).toEqual([0, 1000]);
  });

  test('aborting the signal stops the execution', async () => {
    const controller = new AbortController();
    const handlers = { stop: () => controller.abort(new Error('operator request')) };
    const flow = flowOf('  - Type: Task\n    Name: S\n    Action: Local:stop\n    Next: W\n  - Type: Wait\n    Name: W\n    Seconds: 10\n    End: true\n');
    const result = await runFlow(flow, {}, { handlers, execute: { signal: controller.signal } });
    expect(result).toMatchObject({ status: 'Stopped', elapsed: 0 });
    expect(result.errorMessage).toMatch(/stopped: operator request/);
  });

  test('an already-aborted signal stops before anything runs', async () => {
    let ran = false;
    const flow = flowOf('  - Type: Task\n    Name: S\n    Action: Local:x\n    End: true\n');
    const result = await runFlow(flow, {}, { handlers: { x: () => (ran = true) }, execute: { signal: AbortSignal.abort() } });
    expect(result.status).toBe('Stopped');
    expect(ran).toBe(false);
  });

  test('a finished execution leaves no timer behind', async () => {
    const time = virtualTime();
    const engine = createEngine({ clock: time.clock, sleep: time.sleep });
    const flow = loadFlowDefinition(waitThenPass(1, 'Timeout: 60\n'));
    expect(await engine.execute(flow, {})).toMatchObject({ status: 'Succeeded' });
    expect(time.pendingTimers()).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 9. HTTP:Request against a real loopback server; the engine only ever uses the injected fetch.

describe('HTTP:Request', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method: string; url: string; headers: Record<string, unknown>; body: string }> = [];
  let failuresLeft = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url === '/flaky' && failuresLeft-- > 0) {
          res.writeHead(503, { 'content-type': 'text/plain' }).end('busy');
          return;
        }
        if (req.url === '/text') {
          res.writeHead(200, { 'content-type': 'text/plain', 'x-kind': 'text' }).end('plain words');
          return;
        }
        if (req.url === '/exact') {
          // Echoes the request body's text as it came, so numbers too large for a double pass through unchanged.
          res.writeHead(200, { 'content-type': 'application/json' }).end(`{"echoed":${body}}`);
          return;
        }
        if (req.url === '/missing') {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"no such thing"}');
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ method: req.method, path: req.url, echoed: body ? JSON.parse(body) : null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function runHttp(parameters: string, input: Record<string, unknown> = {}, errorHandling = '', fetchFn: typeof fetch = fetch) {
    const time = virtualTime();
    const engine = createEngine({ clock: time.clock, sleep: time.sleep, fetch: time.holdFetch(fetchFn) });
    const flow = loadFlowDefinition(
      flowOf(`  - Type: Task\n    Name: Call\n    Action: HTTP:Request\n    Parameters:\n${parameters}${errorHandling}    End: true\n`),
      { executionMode: 'Express' },
    );
    return engine.execute(flow, { base, ...input });
  }

  test('numbers keep their exact text in the request body and in the parsed response', async () => {
    const big = new LosslessNumber('12345678901234567890');
    const result = await runHttp('      method: POST\n      url.$: format("{}/exact", $Input.base)\n      body:\n        id.$: $Input.big\n', { big });
    expect(result.errorMessage).toBeUndefined();
    expect(seen.at(-1)!.body).toBe('{"id":12345678901234567890}');
    expect(stringifyExact((result.output as { Body: unknown }).Body)).toBe('{"echoed":{"id":12345678901234567890}}');
  });

  test('GET with headers; a JSON body is parsed into $Output.Body', async () => {
    const result = await runHttp('      url.$: format("{}/items?x=1", $Input.base)\n      headers:\n        X-Trace.$: $Input.trace\n', { trace: 't-9' });
    expect(result.errorMessage).toBeUndefined();
    expect(result.output).toMatchObject({
      StatusCode: 200,
      Headers: { 'content-type': 'application/json' },
      Body: { method: 'GET', path: '/items?x=1', echoed: null },
    });
    expect(seen.at(-1)!.headers['x-trace']).toBe('t-9');
  });

  test('POST sends a map body as JSON', async () => {
    const result = await runHttp('      method: POST\n      url.$: format("{}/orders", $Input.base)\n      body:\n        id.$: $Input.id\n        qty: 2\n', {
      id: 'o-1',
    });
    // Parsed responses keep numbers as their exact text (LosslessNumbers); compared here as JSON.
    expect(JSON.parse(stringifyExact(result.output))).toMatchObject({ Body: { method: 'POST', echoed: { id: 'o-1', qty: 2 } } });
    expect(seen.at(-1)!.headers['content-type']).toBe('application/json');
  });

  test('parameter names are case-insensitive (URL, Method, Body); a string body is sent as is', async () => {
    const result = await runHttp('      Method: put\n      URL.$: format("{}/raw", $Input.base)\n      Body: \'{"raw":true}\'\n');
    expect(result.output).toMatchObject({ Body: { method: 'PUT', echoed: { raw: true } } });
  });

  test('a non-JSON response body stays text', async () => {
    const result = await runHttp('      url.$: format("{}/text", $Input.base)\n');
    expect(result.output).toMatchObject({ StatusCode: 200, Headers: { 'x-kind': 'text' }, Body: 'plain words' });
  });

  test('a non-2xx answer raises HTTP.<status>, which Retry can match', async () => {
    failuresLeft = 2;
    const before = seen.length;
    const result = await runHttp(
      '      url.$: format("{}/flaky", $Input.base)\n',
      {},
      '    Retry:\n      - Errors: [HTTP.503]\n        MaxAttempts: 3\n        IntervalSeconds: 1\n',
    );
    expect(result).toMatchObject({ status: 'Succeeded', output: { StatusCode: 200 } });
    expect(seen.length - before).toBe(3);
    const missing = await runHttp('      url.$: format("{}/missing", $Input.base)\n');
    expect(missing).toMatchObject({ status: 'Failed', errorCode: 'HTTP.404' });
    expect(missing.errorMessage).toMatch(/answered 404: \{"message":"no such thing"\}/);
  });

  test('an unreachable server raises HTTP.RequestFailed', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await runHttp(`      url: http://127.0.0.1:${port}/\n`);
    expect(result).toMatchObject({ status: 'Failed', errorCode: 'HTTP.RequestFailed' });
  });

  test('the injected fetch is what gets called', async () => {
    const calls: string[] = [];
    const fake = (async (url: string | URL | Request) => {
      calls.push(String(url));
      return new Response('{"fake":true}', { headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const result = await runHttp('      url: https://example.invalid/x\n', {}, '', fake);
    expect(calls).toEqual(['https://example.invalid/x']);
    expect(result.output).toMatchObject({ Body: { fake: true } });
  });

  test('a bad url is FnF.RuntimeError; without an injected fetch HTTP:Request is unsupported', async () => {
    expect(await runHttp('      url: not-a-url\n')).toMatchObject({ status: 'Failed', errorCode: 'FnF.RuntimeError' });
    const flow = loadFlowDefinition(flowOf('  - Type: Task\n    Name: Call\n    Action: HTTP:Request\n    Parameters:\n      url: http://x/\n    End: true\n'));
    const engine = createEngine({ ...virtualTime() });
    expect(engine.unsupportedActions(flow)).toEqual(['HTTP:Request']);
    expect(await engine.execute(flow, {})).toMatchObject({ status: 'Failed', errorCode: 'FnF.ActionNotSupported' });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 10. The loader refuses bad definitions up front, naming the state.

describe('loader rejections', () => {
  const pass = (name: string, rest = '    End: true\n') => `  - Type: Pass\n    Name: ${name}\n${rest}`;
  const cases: Array<[string, string, string]> = [
    ['missing StartAt', 'Type: StateMachine\nSpecVersion: v1\nStates:\n' + pass('A'), 'the flow requires StartAt'],
    [
      'StartAt names no state',
      'Type: StateMachine\nSpecVersion: v1\nStartAt: Nope\nStates:\n' + pass('A'),
      'StartAt "Nope" of the flow is not a state in that scope',
    ],
    ['empty States', 'Type: StateMachine\nSpecVersion: v1\nStartAt: A\nStates: []\n', 'the flow requires a non-empty States list'],
    ['unknown Next', flowOf(pass('A', '    Next: Nope\n')), 'State "A": Next "Nope" is not a state in the flow'],
    ['unknown state type', flowOf('  - Type: Sleep\n    Name: A\n    End: true\n'), 'State "A": unknown state type "Sleep"'],
    ['state without a Name', flowOf('  - Type: Pass\n    End: true\n'), 'States[0] of the flow requires a Name'],
    ['duplicate names', flowOf(pass('A', '    Next: A\n') + pass('A')), 'State "A": the name is used twice in the flow'],
    ['neither Next nor End', flowOf(pass('A', '    Description: x\n')), 'State "A": needs Next or End: true'],
    ['both Next and End', flowOf(pass('A', '    Next: B\n    End: true\n') + pass('B')), 'State "A": has both Next and End: true'],
    ['Choice without Branches', flowOf('  - Type: Choice\n    Name: Route\n    Default: B\n' + pass('B')), 'State "Route": Choice requires Branches'],
    [
      'Choice without Default',
      flowOf('  - Type: Choice\n    Name: Route\n    Branches:\n      - Condition: $Input.a == 1\n        Next: B\n' + pass('B')),
      'State "Route": Choice requires Default',
    ],
    [
      'Choice with ASL Choices',
      flowOf('  - Type: Choice\n    Name: Route\n    Choices: []\n    Default: B\n' + pass('B')),
      'State "Route": Choice has an unknown field "Choices" (Choice uses Branches (each with Condition and Next))',
    ],
    [
      'Choice branch to nowhere',
      flowOf('  - Type: Choice\n    Name: Route\n    Branches:\n      - Condition: $Input.a == 1\n        Next: Nope\n    Default: B\n' + pass('B')),
      'State "Route": Branches[0].Next "Nope" is not a state in the flow',
    ],
    [
      'Choice Default to nowhere',
      flowOf('  - Type: Choice\n    Name: Route\n    Branches:\n      - Condition: $Input.a == 1\n        Next: B\n    Default: Nope\n' + pass('B')),
      'State "Route": Default "Nope" is not a state in the flow',
    ],
    [
      'Choice with End',
      flowOf(
        '  - Type: Choice\n    Name: Route\n    End: true\n    Branches:\n      - Condition: $Input.a == 1\n        Next: B\n    Default: B\n' + pass('B'),
      ),
      'State "Route": Choice has an unknown field "End"',
    ],
    [
      'Choice condition syntax',
      flowOf('  - Type: Choice\n    Name: Route\n    Branches:\n      - Condition: $Input.a ==\n        Next: B\n    Default: B\n' + pass('B')),
      'State "Route": Branches[0].Condition: unexpected end of expression',
    ],
    [
      'Choice condition without Condition',
      flowOf('  - Type: Choice\n    Name: Route\n    Branches:\n      - Next: B\n    Default: B\n' + pass('B')),
      'State "Route": Branches[0] requires a Condition',
    ],
    [
      'unknown function',
      flowOf(pass('A', '    End: true\n    InputConstructor:\n      x.$: shout($Input.a)\n')),
      'State "A": InputConstructor.x.$: unknown function "shout"',
    ],
    [
      'unknown variable',
      flowOf(pass('A', '    End: true\n    InputConstructor:\n      x.$: $Inputs.a\n')),
      'State "A": InputConstructor.x.$: unknown variable "$Inputs"',
    ],
    [
      '$Output outside OutputConstructor',
      flowOf(pass('A', '    End: true\n    InputConstructor:\n      x.$: $Output.a\n')),
      'State "A": InputConstructor reads $Output, which is only available in OutputConstructor',
    ],
    [
      '.$ key without an expression',
      flowOf(pass('A', '    End: true\n    OutputConstructor:\n      x.$: 5\n')),
      'State "A": OutputConstructor.x.$ must be an expression string',
    ],
    ['constructor that is not a map', flowOf(pass('A', '    End: true\n    InputConstructor: [1]\n')), 'State "A": InputConstructor must be a map'],
    ['ASL ResultPath', flowOf(pass('A', '    End: true\n    ResultPath: $.x\n')), 'State "A": Pass has an unknown field "ResultPath" (use OutputConstructor)'],
    ['Retry on a Pass', flowOf(pass('A', '    End: true\n    Retry: []\n')), 'State "A": Pass has an unknown field "Retry"'],
    [
      'Retry without Errors',
      taskWith('    Retry:\n      - MaxAttempts: 1\n        IntervalSeconds: 1\n'),
      'State "T": Retry[0].Errors must be a non-empty list of error names',
    ],
    [
      'Retry with ErrorEquals',
      taskWith('    Retry:\n      - ErrorEquals: [A]\n'),
      'State "T": Retry[0] has an unknown field "ErrorEquals" (Retry and Catch use Errors)',
    ],
    [
      'Retry without MaxAttempts',
      taskWith('    Retry:\n      - Errors: [A]\n        IntervalSeconds: 1\n'),
      'State "T": Retry[0].MaxAttempts must be a whole number ≥ 0',
    ],
    [
      'Retry without IntervalSeconds',
      taskWith('    Retry:\n      - Errors: [A]\n        MaxAttempts: 1\n'),
      'State "T": Retry[0].IntervalSeconds must be from 0 to 86400',
    ],
    [
      'Retry with a shrinking BackoffRate',
      taskWith('    Retry:\n      - Errors: [A]\n        MaxAttempts: 1\n        IntervalSeconds: 1\n        BackoffRate: 0.5\n'),
      'State "T": Retry[0].BackoffRate must be a number ≥ 1',
    ],
    ['Retry not a list', taskWith('    Retry:\n      Errors: [A]\n'), 'State "T": Retry must be a list'],
    ['Catch without Next', taskWith('    Catch:\n      - Errors: [A]\n'), 'State "T": Catch[0] requires Next'],
    ['Catch to nowhere', taskWith('    Catch:\n      - Errors: [A]\n        Next: Nope\n'), 'State "T": Catch[0].Next "Nope" is not a state in the flow'],
    ['Task without Action', flowOf('  - Type: Task\n    Name: T\n    End: true\n'), 'State "T": Task requires Action'],
    [
      'Task Action without a service',
      flowOf('  - Type: Task\n    Name: T\n    Action: myHandler\n    End: true\n'),
      'State "T": Action must look like <Service>:<API>',
    ],
    [
      'Task with ASL Resource',
      flowOf('  - Type: Task\n    Name: T\n    Resource: arn\n    Action: Local:x\n    End: true\n'),
      'State "T": Task has an unknown field "Resource" (Task uses Action)',
    ],
    [
      'callback TaskMode in Express',
      flowOf('  - Type: Task\n    Name: T\n    Action: Local:x\n    TaskMode: WaitForCustomCallback\n    End: true\n'),
      'State "T": TaskMode WaitForCustomCallback is not available in Express mode (only RequestComplete)',
    ],
    [
      'unknown TaskMode',
      flowOf('  - Type: Task\n    Name: T\n    Action: Local:x\n    TaskMode: Async\n    End: true\n'),
      'State "T": TaskMode must be one of',
    ],
    [
      'Task Timeout out of range',
      flowOf('  - Type: Task\n    Name: T\n    Action: Local:x\n    Timeout: -1\n    End: true\n'),
      'State "T": Timeout must be a whole number of seconds from 0 to 604800',
    ],
    ['Wait without Seconds', flowOf('  - Type: Wait\n    Name: W\n    End: true\n'), 'State "W": Wait requires Seconds (or Seconds.$)'],
    [
      'Wait over the Express limit',
      flowOf('  - Type: Wait\n    Name: W\n    Seconds: 30\n    End: true\n'),
      'State "W": Seconds must be a whole number from 1 to 20 in Express mode, got 30',
    ],
    [
      'Wait with both Seconds forms',
      flowOf('  - Type: Wait\n    Name: W\n    Seconds: 3\n    Seconds.$: $Input.s\n    End: true\n'),
      'State "W": set Seconds or Seconds.$, not both',
    ],
    ['Parallel without Branches', flowOf('  - Type: Parallel\n    Name: P\n    End: true\n'), 'State "P": Parallel requires Branches'],
    [
      'Parallel with 51 branches',
      flowOf(
        `  - Type: Parallel\n    Name: P\n    End: true\n    Branches:\n${'      - StartAt: A\n        States:\n          - Type: Pass\n            Name: A\n            End: true\n'.repeat(51)}`,
      ),
      'State "P": Parallel allows at most 50 Branches, got 51',
    ],
    [
      'error inside a branch names the inner state',
      flowOf(
        '  - Type: Parallel\n    Name: P\n    End: true\n    Branches:\n      - StartAt: Inner\n        States:\n          - Type: Pass\n            Name: Inner\n            Next: Outside\n' +
          pass('Outside'),
      ),
      'State "Inner": Next "Outside" is not a state in P branch 0',
    ],
    [
      'branch without StartAt',
      flowOf('  - Type: Parallel\n    Name: P\n    End: true\n    Branches:\n      - States: []\n'),
      'State "P": P branch 0 requires StartAt',
    ],
    [
      'Map without ItemsPath',
      flowOf('  - Type: Map\n    Name: M\n    End: true\n    Processor:\n      StartAt: A\n      States:\n' + pass('A').replace(/^/gm, '    ')),
      'State "M": Map requires ItemsPath',
    ],
    ['Map without Processor', flowOf('  - Type: Map\n    Name: M\n    ItemsPath: $Input.x\n    End: true\n'), 'State "M": Map requires Processor'],
    [
      'Map with ASL Iterator',
      flowOf('  - Type: Map\n    Name: M\n    ItemsPath: $Input.x\n    Iterator: {}\n    End: true\n'),
      'State "M": Map has an unknown field "Iterator" (Map uses Processor)',
    ],
    ['Map concurrency above 40', mapFlow('    MaxConcurrency: 41\n'), 'State "M": MaxConcurrency must be a whole number from 1 to 40, got 41'],
    ['Map with both spellings', mapFlow('    MaxConcurrency: 2\n    MaxConcuccency: 2\n'), 'State "M": set MaxConcurrency or MaxConcuccency, not both'],
    ['Fail with Next', flowOf('  - Type: Fail\n    Name: F\n    Code: X\n    Next: B\n' + pass('B')), 'State "F": Fail ends its scope and cannot have Next'],
    ['Fail with ASL Error/Cause', flowOf('  - Type: Fail\n    Name: F\n    Error: X\n'), 'State "F": Fail has an unknown field "Error" (Fail uses Code)'],
    ['Type is not StateMachine', 'Type: Flow\nSpecVersion: v1\nStartAt: A\nStates:\n' + pass('A'), 'Type must be "StateMachine", got "Flow"'],
    ['SpecVersion is not v1', 'Type: StateMachine\nSpecVersion: v2\nStartAt: A\nStates:\n' + pass('A'), 'SpecVersion must be "v1", got "v2"'],
    ['unknown top-level field', flowOf(pass('A'), 'Comment: hi\n'), 'the definition has an unknown field "Comment"'],
    ['flow Timeout not positive', flowOf(pass('A'), 'Timeout: 0\n'), 'Timeout must be a positive whole number of seconds, got 0'],
    ['bad ExecutionMode', flowOf(pass('A'), 'ExecutionMode: Fast\n'), 'ExecutionMode must be "Express" or "Standard", got "Fast"'],
    ['not YAML', 'Type: [StateMachine\n', 'the definition is not valid YAML or JSON'],
    ['empty text', '  \n', 'the definition is empty'],
    [
      'legacy spec',
      'version: v1beta1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n',
      'unsupported: the legacy `type: flow` spec is not supported; use Type: StateMachine, SpecVersion: v1',
    ],
  ];
  test.each(cases)('%s', (_, text, message) => {
    let thrown: unknown;
    try {
      loadFlowDefinition(text, { executionMode: 'Express' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(FlowDefinitionError);
    expect((thrown as Error).message).toContain(message);
  });

  test('the mode is exposed: from the definition, from the registration, Standard by default', () => {
    const body = pass('A');
    expect(loadFlowDefinition(flowOf(body, 'ExecutionMode: Express\n')).mode).toBe('Express');
    expect(loadFlowDefinition(flowOf(body), { executionMode: 'Express' }).mode).toBe('Express');
    expect(loadFlowDefinition(flowOf(body)).mode).toBe('Standard');
    expect(() => loadFlowDefinition(flowOf(body, 'ExecutionMode: Standard\n'), { executionMode: 'Express' })).toThrow(
      'ExecutionMode "Standard" in the definition conflicts with "Express"',
    );
  });

  test('Standard mode allows longer waits and callback task modes', () => {
    const flow = loadFlowDefinition(
      flowOf(
        '  - Type: Wait\n    Name: W\n    Seconds: 300\n    Next: T\n  - Type: Task\n    Name: T\n    Action: Local:x\n    TaskMode: WaitForCustomCallback\n    End: true\n',
      ),
      { executionMode: 'Standard' },
    );
    expect(flow.mode).toBe('Standard');
  });

  test('the registered name must agree with the definition Name', () => {
    expect(loadFlowDefinition(flowOf(pass('A')), { name: 'test' }).name).toBe('test');
    expect(() => loadFlowDefinition(flowOf(pass('A')), { name: 'other' })).toThrow('Name "test" does not match the flow name "other"');
  });

  test('JSON definitions load too, and Timeout/Description are exposed', () => {
    const flow = loadFlowDefinition(
      JSON.stringify({
        Type: 'StateMachine',
        SpecVersion: 'v1',
        Description: 'd',
        Timeout: 30,
        StartAt: 'A',
        States: [{ Type: 'Pass', Name: 'A', End: true }],
      }),
    );
    expect(flow).toMatchObject({ description: 'd', timeoutSeconds: 30, mode: 'Standard', actions: [] });
  });
});
