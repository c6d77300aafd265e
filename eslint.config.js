// ESLint 9 flat config: `npm run lint` (the whole tree; .ci/run runs it before the tests).
//
// TypeScript (src, test): typescript-eslint's strictTypeChecked, i.e. recommendedTypeChecked (no floating or
// misused promises, no `any` leaking through, no unused variables, ...) plus the strict rules, except the few
// listed below with the reason each is off. The JavaScript files (bin, bench, scripts, the host fixture, this
// file) get ESLint's recommended rules with Node's globals.
//
// Speed: every TypeScript file is type-checked through one program, test/tsconfig.json (it includes src, scripts
// and bench), instead of one program per tsconfig (projectService would open tsconfig.json for src and
// test/tsconfig.json for test, type-checking src twice: ~15% more CPU here). A cold run is ~50 s of CPU on this
// machine, so `npm run lint` keeps ESLint's cache (node_modules/.cache/eslint, keyed by file content): later runs
// re-lint only changed files. With type information a cached file is not re-checked when only a file it imports
// changed; CI (.ci/run) starts from a clean checkout, so it always lints everything.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'test/fixtures/**/node_modules/', 'tmp/', 'bench/.data/', 'coverage/']},
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.strictTypeChecked],
    languageOptions: {parserOptions: {project: './test/tsconfig.json', tsconfigRootDir: import.meta.dirname}},
    linterOptions: {reportUnusedDisableDirectives: 'error'},
    rules: {
      // numbers in messages (`${count} files`) are fine; objects, unknown, null and undefined are not
      '@typescript-eslint/restrict-template-expressions': ['error', {allowNumber: true}],
      // `_name` marks a deliberately unused parameter or binding; `{drop, ...rest}` picks fields out
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true,
      }],
      // oclif's run()/catch()/flag parse() and other async contracts are async even when a body does not await
      '@typescript-eslint/require-await': 'off',
      // without noUncheckedIndexedAccess every `record[key]` looks defined, so this rule reports sound checks
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // `find(...)!` after a check, `box.r!` after a callback filled it: idiomatic here
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `() => write(x)` returning void from a void callback is plain style
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // `delete process.env[name]` is how an environment variable is removed
      '@typescript-eslint/no-dynamic-delete': 'off',
      // a typed JSON reader (`parseJson<T>()`) is a deliberate, visible cast
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      // the code has no TypeScript enums and no private-state classes built from literals; these two cost a
      // quarter of the lint time for nothing
      '@typescript-eslint/no-unsafe-enum-assignment': 'off',
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
    },
  },
  {
    // tests parse JSON and poke at results: `any` flowing into chai assertions is the point there
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {globals: globals.node},
    linterOptions: {reportUnusedDisableDirectives: 'error'},
  },
)
