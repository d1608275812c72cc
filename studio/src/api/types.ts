/** Names for the generated schema's request and response types that pages use often. */
import type { components } from './schema';

/** A run search; `count` (a capped total of the matching runs, one more query) is off unless asked for. */
export type RunSearchBody = Omit<components['schemas']['RunSearch'], 'count'> & { count?: boolean };
export type ComputeTargetInfo = components['schemas']['ComputeTargetInfo'];
export type EnvironmentInfo = components['schemas']['EnvironmentInfo'];
export type DatastoreInfo = components['schemas']['DatastoreInfo'];
export type DatastoreEntry = components['schemas']['DatastoreEntry'];
export type DatasetVersionInfo = components['schemas']['DatasetVersionInfo'];
export type DatasetFile = components['schemas']['DatasetFile'];
export type DatasetLink = components['schemas']['DatasetLink'];
export type ModelInfo = components['schemas']['ModelInfo'];
export type ModelFile = components['schemas']['ModelFile'];
export type ModelDatasetRef = components['schemas']['ModelDatasetRef'];
export type ModelUpdate = components['schemas']['ModelUpdate'];
