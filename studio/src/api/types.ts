/** Names for the generated schema's request and response types that pages use often. */
import type { components } from './schema';

export type RunSearchBody = components['schemas']['RunSearch'];
export type ComputeTargetInfo = components['schemas']['ComputeTargetInfo'];
export type EnvironmentInfo = components['schemas']['EnvironmentInfo'];
