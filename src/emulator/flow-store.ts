/**
 * The emulator's flows, in memory: what CreateFlow / UpdateFlow / DeleteFlow change and what StartSyncExecution
 * runs. Every definition is loaded (validated) when it is registered, so a bad flow is refused then, not mid-run.
 *
 * Versions: CreateFlow makes version 1; each UpdateFlow that brings a Definition adds the next version number.
 * An unqualified call runs the latest version. Aliases map a name to a version (set when flows are preloaded,
 * or with `setAlias`). `Qualifier` accepts a version number or an alias.
 */
import { FlowDefinitionError, loadFlowDefinition, type ExecutionMode, type FlowDefinition } from './engine/index.js';
import { CLOUDFLOW_NAME } from '../cloudflow/types.js';
import { emulatorError } from './errors.js';

export interface FlowVersion {
  version: number;
  /** The definition text as registered (DescribeFlow returns it). */
  source: string;
  definition: FlowDefinition;
  createdTime: number;
}

/** A flow's environment variables (SDK model CreateFlowRequest.Environment). */
export interface FlowEnvironment {
  Variables: Array<{ Name: string; Value: string; Description?: string }>;
}

export interface StoredFlow {
  id: string;
  name: string;
  description: string;
  type: 'FDL';
  roleArn: string;
  executionMode: ExecutionMode;
  resourceGroupId?: string | undefined;
  externalStorageLocation?: string | undefined;
  environment?: FlowEnvironment | undefined;
  createdTime: number;
  lastModifiedTime: number;
  versions: FlowVersion[];
  aliases: Map<string, number>;
}

export interface NewFlow {
  name: string;
  definition: string;
  description?: string | undefined;
  /** From the request; when absent, the definition's own ExecutionMode (default Standard) applies. */
  executionMode?: ExecutionMode | undefined;
  roleArn?: string | undefined;
  resourceGroupId?: string | undefined;
  externalStorageLocation?: string | undefined;
  environment?: FlowEnvironment | undefined;
}

export interface FlowChanges {
  definition?: string | undefined;
  description?: string | undefined;
  roleArn?: string | undefined;
}

export interface FlowStore {
  create(flow: NewFlow): StoredFlow;
  get(name: string): StoredFlow | undefined;
  /** Sorted by name, so paging with NextToken is stable. */
  list(): StoredFlow[];
  update(name: string, changes: FlowChanges): StoredFlow;
  delete(name: string): void;
  setAlias(name: string, alias: string, version: number): void;
  /** The version a Qualifier names (latest when empty); throws FlowNotExists for an unknown flow or qualifier. */
  resolve(name: string, qualifier?: string): { flow: StoredFlow; version: FlowVersion };
}

export function createFlowStore(options: { now: () => number; uuid: () => string }): FlowStore {
  const flows = new Map<string, StoredFlow>();

  const load = (source: string, name: string, executionMode?: ExecutionMode): FlowDefinition => {
    try {
      return loadFlowDefinition(source, { name, ...(executionMode ? { executionMode } : {}) });
    } catch (error) {
      if (error instanceof FlowDefinitionError) throw emulatorError('InvalidArgument', `Definition: ${error.message}`);
      throw error;
    }
  };

  const mustGet = (name: string): StoredFlow => {
    const flow = flows.get(name);
    if (!flow) throw emulatorError('FlowNotExists', name);
    return flow;
  };

  return {
    create(input) {
      if (!CLOUDFLOW_NAME.test(input.name)) throw emulatorError('InvalidArgument', `Name "${input.name.slice(0, 140)}" must match ${CLOUDFLOW_NAME.source}.`);
      if (flows.has(input.name)) throw emulatorError('FlowAlreadyExists', input.name);
      const definition = load(input.definition, input.name, input.executionMode);
      const now = options.now();
      const flow: StoredFlow = {
        id: options.uuid(),
        name: input.name,
        description: input.description ?? definition.description ?? '',
        type: 'FDL',
        roleArn: input.roleArn ?? '',
        executionMode: definition.mode,
        resourceGroupId: input.resourceGroupId,
        externalStorageLocation: input.externalStorageLocation,
        environment: input.environment,
        createdTime: now,
        lastModifiedTime: now,
        versions: [{ version: 1, source: input.definition, definition, createdTime: now }],
        aliases: new Map(),
      };
      flows.set(flow.name, flow);
      return flow;
    },
    get: (name) => flows.get(name),
    list: () => [...flows.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    update(name, changes) {
      const flow = mustGet(name);
      const now = options.now();
      if (changes.definition !== undefined) {
        // The execution mode is fixed at CreateFlow; a new definition must agree with it.
        const definition = load(changes.definition, name, flow.executionMode);
        flow.versions.push({ version: latest(flow).version + 1, source: changes.definition, definition, createdTime: now });
      }
      if (changes.description !== undefined) flow.description = changes.description;
      if (changes.roleArn !== undefined) flow.roleArn = changes.roleArn;
      flow.lastModifiedTime = now;
      return flow;
    },
    delete(name) {
      mustGet(name);
      flows.delete(name);
    },
    setAlias(name, alias, version) {
      const flow = mustGet(name);
      if (!flow.versions.some((v) => v.version === version))
        throw emulatorError('InvalidArgument', `Flow ${name} has no version ${version} for alias "${alias}".`);
      if (!CLOUDFLOW_NAME.test(alias) || /^\d+$/.test(alias))
        throw emulatorError('InvalidArgument', `Alias "${alias}" must match ${CLOUDFLOW_NAME.source} and not be a number.`);
      flow.aliases.set(alias, version);
    },
    resolve(name, qualifier) {
      const flow = mustGet(name);
      if (!qualifier) return { flow, version: latest(flow) };
      const number = /^[1-9]\d{0,9}$/.test(qualifier) ? Number(qualifier) : flow.aliases.get(qualifier);
      const version = flow.versions.find((v) => v.version === number);
      if (!version) throw emulatorError('FlowNotExists', `${name} with Qualifier "${qualifier.slice(0, 140)}"`);
      return { flow, version };
    },
  };
}

export function latest(flow: StoredFlow): FlowVersion {
  return flow.versions[flow.versions.length - 1]!;
}
