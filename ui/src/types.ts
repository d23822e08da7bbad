// The records and answers the backend sends, generated from the Rust types
// (`scripts/bindings`): core's in `bindings/model.ts`, the app's commands'
// in `bindings/app.ts`. Nothing is declared here by hand.

export type * from './bindings/model'
export type * from './bindings/app'

import type { Commands } from './bindings/app'

/** Which masked field of which saved record the worker reveals (logged):
 * what `log_reveal` takes. */
export type RevealArgs = Commands['log_reveal']['args']
