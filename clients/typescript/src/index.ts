export {
  type ApiErrorBody,
  createStackProClient,
  memoryTokenStore,
  type Schemas,
  StackProApiError,
  type StackProClient,
  type StackProClientOptions,
  type TokenStore,
  type Tokens,
  unwrap,
} from "./client.js";
export type { components, operations, paths } from "./schema.js";
