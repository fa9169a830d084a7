/**
 * CreateFlow, DescribeFlow, ListFlows, UpdateFlow and DeleteFlow, with the request and response fields of the
 * real API (the fnf 2019-03-15 SDK models CreateFlowRequest, DescribeFlowResponseBody, …; docs/emulator.md, Sources).
 */
import type { ExecutionMode } from '../engine/index.js';
import { emulatorError } from '../errors.js';
import { latest, type FlowEnvironment, type StoredFlow } from '../flow-store.js';
import { parseJson } from '../../lib/json.js';
import { isoTime } from '../../lib/iso-time.js';
import { flowName, type Action } from './types.js';

/** The per-flow fields CreateFlow, DescribeFlow, UpdateFlow and ListFlows return. */
export function describeFlow(flow: StoredFlow): Record<string, unknown> {
  return {
    Id: flow.id,
    Name: flow.name,
    Definition: latest(flow).source,
    Description: flow.description,
    Type: flow.type,
    RoleArn: flow.roleArn,
    ExecutionMode: flow.executionMode,
    CreatedTime: isoTime(flow.createdTime),
    LastModifiedTime: isoTime(flow.lastModifiedTime),
    ...(flow.resourceGroupId !== undefined ? { ResourceGroupId: flow.resourceGroupId } : {}),
    ...(flow.externalStorageLocation !== undefined ? { ExternalStorageLocation: flow.externalStorageLocation } : {}),
    ...(flow.environment !== undefined ? { Environment: flow.environment } : {}),
  };
}

function required(params: Readonly<Record<string, string>>, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') throw emulatorError('MissingRequiredParams', name);
  return value;
}

/** A parameter that must be sent, though it may be empty (CreateFlow's Description). */
function present(params: Readonly<Record<string, string>>, name: string): string {
  const value = params[name];
  if (value === undefined) throw emulatorError('MissingRequiredParams', name);
  return value;
}

function checkType(type: string | undefined): void {
  if (type !== undefined && type !== 'FDL') throw emulatorError('InvalidArgument', `Type must be "FDL".`);
}

function executionMode(value: string | undefined): ExecutionMode | undefined {
  if (value === undefined) return undefined;
  if (value === '') return 'Standard';
  if (value === 'Express' || value === 'Standard') return value;
  throw emulatorError('InvalidArgument', 'ExecutionMode must be "Express" or "Standard".');
}

/**
 * `Environment` (SDK model CreateFlowRequest.Environment): `{"Variables":[{"Name","Value","Description"?}]}`,
 * sent as JSON text in RPC form bodies (the SDKs' "shrink" convention). Anything else is refused, so what is
 * stored is always that flat shape.
 */
function environment(value: string | undefined): FlowEnvironment | undefined {
  if (value === undefined || value === '') return undefined;
  const bad = (why: string) => emulatorError('InvalidArgument', `Environment must be {"Variables":[{"Name":"…","Value":"…"}]}: ${why}.`);
  const parsed = parseJson(value);
  if (parsed === undefined) throw bad('it is not JSON');
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('it is not an object');
  const unknown = Object.keys(parsed).filter((key) => key !== 'Variables');
  if (unknown.length > 0) throw bad(`unknown field ${JSON.stringify(unknown[0]).slice(0, 80)}`);
  const variables = (parsed as { Variables?: unknown }).Variables ?? [];
  if (!Array.isArray(variables)) throw bad('Variables is not a list');
  return {
    Variables: variables.map((variable: unknown, i) => {
      const v = variable as Record<string, unknown> | null;
      const text = (field: string) => typeof v?.[field] === 'string';
      if (v === null || typeof v !== 'object' || Array.isArray(v) || !text('Name') || !text('Value') || (v.Description !== undefined && !text('Description'))) {
        throw bad(`Variables[${i}] needs a string Name and Value (and at most a string Description)`);
      }
      return { Name: v.Name as string, Value: v.Value as string, ...(v.Description !== undefined ? { Description: v.Description as string } : {}) };
    }),
  };
}

export const createFlow: Action = async ({ params, store }) => {
  const name = flowName(params, 'Name');
  const definition = required(params, 'Definition');
  // Required by CreateFlow (SDK model CreateFlowRequest), though it may be empty.
  const description = present(params, 'Description');
  checkType(required(params, 'Type'));
  const flow = store.create({
    name,
    definition,
    description,
    executionMode: executionMode(params.ExecutionMode),
    roleArn: params.RoleArn,
    resourceGroupId: params.ResourceGroupId,
    externalStorageLocation: params.ExternalStorageLocation,
    environment: environment(params.Environment),
  });
  return describeFlow(flow);
};

export const describeFlowAction: Action = async ({ params, store }) => {
  const name = flowName(params, 'Name');
  const flow = store.get(name);
  if (!flow) throw emulatorError('FlowNotExists', name);
  return describeFlow(flow);
};

export const listFlows: Action = async ({ params, store, mayUse }) => {
  const limitText = params.Limit;
  const limit = limitText === undefined || limitText === '' ? 60 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 999) throw emulatorError('InvalidArgument', 'Limit must be a whole number from 1 to 999.');
  // A key limited to some flows lists only those.
  const all = store.list().filter((flow) => mayUse(flow.name));
  // NextToken is the name of the first flow of the next page: stable while flows are added or deleted.
  const token = params.NextToken;
  const start = token ? all.findIndex((f) => f.name >= token) : 0;
  const page = start < 0 ? [] : all.slice(start, start + limit);
  const next = start < 0 ? undefined : all[start + limit];
  return { Flows: page.map(describeFlow), ...(next ? { NextToken: next.name } : {}) };
};

export const updateFlow: Action = async ({ params, store }) => {
  const name = flowName(params, 'Name');
  checkType(params.Type);
  const flow = store.update(name, { definition: params.Definition || undefined, description: params.Description, roleArn: params.RoleArn });
  return describeFlow(flow);
};

export const deleteFlow: Action = async ({ params, store }) => {
  store.delete(flowName(params, 'Name'));
  return {};
};
