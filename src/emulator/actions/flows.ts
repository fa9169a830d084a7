/**
 * CreateFlow, DescribeFlow, ListFlows, UpdateFlow and DeleteFlow, with the request and response fields of the
 * real API (the fnf 2019-03-15 SDK models CreateFlowRequest, DescribeFlowResponseBody, …; docs/emulator.md, Sources).
 */
import type { ExecutionMode } from '../engine/index.js';
import { emulatorError } from '../errors.js';
import { latest, type StoredFlow } from '../flow-store.js';
import { isoTime } from '../../lib/iso-time.js';
import type { Action } from './types.js';

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
  if (value === undefined || value === '') throw emulatorError('MissingRequiredParams', `The request must contain the parameter ${name}.`);
  return value;
}

function checkType(type: string | undefined): void {
  if (type !== undefined && type !== 'FDL') throw emulatorError('InvalidArgument', `Parameter error. Type must be "FDL".`);
}

function executionMode(value: string | undefined): ExecutionMode | undefined {
  if (value === undefined) return undefined;
  if (value === '') return 'Standard';
  if (value === 'Express' || value === 'Standard') return value;
  throw emulatorError('InvalidArgument', 'Parameter error. ExecutionMode must be "Express" or "Standard".');
}

/** Complex parameters travel as JSON text in RPC form bodies (the SDKs' "shrink" convention). */
function environment(value: string | undefined): unknown {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw emulatorError('InvalidArgument', 'Parameter error. Environment must be JSON.');
  }
}

export const createFlow: Action = async ({ params, store }) => {
  const name = required(params, 'Name');
  const definition = required(params, 'Definition');
  checkType(required(params, 'Type'));
  const flow = store.create({
    name,
    definition,
    description: params.Description,
    executionMode: executionMode(params.ExecutionMode),
    roleArn: params.RoleArn,
    resourceGroupId: params.ResourceGroupId,
    externalStorageLocation: params.ExternalStorageLocation,
    environment: environment(params.Environment),
  });
  return describeFlow(flow);
};

export const describeFlowAction: Action = async ({ params, store }) => {
  const name = required(params, 'Name');
  const flow = store.get(name);
  if (!flow) throw emulatorError('FlowNotExists', `Flow ${name} does not exist.`);
  return describeFlow(flow);
};

export const listFlows: Action = async ({ params, store }) => {
  const limitText = params.Limit;
  const limit = limitText === undefined || limitText === '' ? 60 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 999)
    throw emulatorError('InvalidArgument', 'Parameter error. Limit must be a whole number from 1 to 999.');
  const all = store.list();
  // NextToken is the name of the first flow of the next page: stable while flows are added or deleted.
  const token = params.NextToken;
  const start = token ? all.findIndex((f) => f.name >= token) : 0;
  const page = start < 0 ? [] : all.slice(start, start + limit);
  const next = start < 0 ? undefined : all[start + limit];
  return { Flows: page.map(describeFlow), ...(next ? { NextToken: next.name } : {}) };
};

export const updateFlow: Action = async ({ params, store }) => {
  const name = required(params, 'Name');
  checkType(params.Type);
  const flow = store.update(name, { definition: params.Definition || undefined, description: params.Description, roleArn: params.RoleArn });
  return describeFlow(flow);
};

export const deleteFlow: Action = async ({ params, store }) => {
  store.delete(required(params, 'Name'));
  return {};
};
