import neostandard from 'neostandard'

export default [
  ...neostandard({
    ts: true,
    ignores: ['dist/**', 'coverage/**', '.tap/**', 'node_modules/**', 'scratch/**']
  }),
  {
    // TypeBox's idiom: a schema constant and its Static<> type share one name.
    rules: { '@typescript-eslint/no-redeclare': 'off' }
  }
]
