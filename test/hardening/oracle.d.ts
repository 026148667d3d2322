// Types for oracle.js, which stays plain JavaScript so that the fuzz script can import it without a build.

export interface Res {
  statusCode: number
  headers: Record<string, string | string[] | number | undefined>
  body: string
}

export declare const PARSER_MESSAGES: readonly string[]

export interface ContractOracle {
  thriveErrorProblems: (res: Res, statuses?: readonly number[]) => string[]
  oauthErrorProblems: (res: Res, statuses?: readonly number[]) => string[]
  errorProblems: (res: Res, dialect: 'thrive' | 'oauth') => string[]
}

export declare function contractOracle (sources: { reasonPhrase: (status: number) => string, oauthErrors: readonly string[] }): ContractOracle

export declare function secretProblems (res: Res, secrets: readonly string[]): string[]
