/** Types of scripts/build.mjs, for the tests that build dist/ the way `npm start` does. */
export declare const ROOT: string;
export declare const ENTRY: string;
export declare function sourcesChangedAt(): number;
export declare function distIsStale(): boolean;
export declare function build(): Promise<void>;
export declare function buildIfStale(): Promise<'current' | 'built'>;
