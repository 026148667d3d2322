// The published type declarations compile in a strict TypeScript project that checks library types (skipLibCheck: false).
import { fileURLToPath } from 'node:url'
import t from 'tap'
import ts from 'typescript'

const dist = (file: string) => fileURLToPath(new URL(`../dist/${file}`, import.meta.url))

t.test('dist/index.d.ts and dist/msw.d.ts type-check with skipLibCheck off, as a consumer with strict settings compiles them', async (t) => {
  const program = ts.createProgram([dist('index.d.ts'), dist('msw.d.ts')], {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    types: ['node']
  })
  const problems = ts.getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || d.file.fileName.includes('/dist/'))
    .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
  t.same(problems, [], 'no diagnostic in the published declarations')
})
