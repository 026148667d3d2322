// The coverage report as one self-contained HTML page: operations x statuses, then the violations by code.
import { createHash } from 'node:crypto'
import type { CoverageReport } from './schemas/coverage.js'
import { byStatus } from './store/coverage.js'

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1b1b; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #c8c8c8; padding: .3rem .5rem; text-align: center; }
th[scope=row] { text-align: left; font-weight: normal; white-space: nowrap; }
thead th { background: #f1f1f1; position: sticky; top: 0; }
.seen { background: #d7f2d7; font-weight: 600; }
.never { background: #fde2c8; color: #8a4a00; }
.undocumented { background: #f6c5c5; color: #8b0000; font-weight: 700; }
td.na { background: #fafafa; }
.legend span { display: inline-block; padding: 0 .5rem; margin-right: .5rem; border: 1px solid #c8c8c8; }
code { font-family: ui-monospace, monospace; font-size: 12px; }
.op { color: #555; font-size: 12px; }
td.left { text-align: left; }
`

/** The page's Content-Security-Policy: nothing loads, nothing runs; only the page's own style block applies. */
export const COVERAGE_PAGE_CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Every value that reaches the page goes through this: a violation message can quote what a client sent. */
export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)
}

function statusLabel (status: number | null): string {
  return status === null ? 'none' : String(status)
}

export function renderCoveragePage (report: CoverageReport): string {
  const columns = [...new Set(report.operations.flatMap((op) => op.statuses.map((s) => s.status)))]
    .sort(byStatus)
  const scope = report.tenantId === null ? 'every tenant, and requests that authenticated as none' : `tenant <code>${escapeHtml(report.tenantId)}</code>`
  const head = columns.map((status) => `<th scope="col">${statusLabel(status)}</th>`).join('')
  const rows = report.operations.map((op) => {
    const cells = columns.map((status) => {
      const cell = op.statuses.find((s) => s.status === status)
      const at = `data-status="${statusLabel(status)}"`
      if (cell === undefined) return `<td class="na" ${at}></td>`
      if (!cell.documented) return `<td class="undocumented" ${at} data-count="${cell.count}" title="not documented for this operation">${cell.count} !</td>`
      if (cell.count === 0) return `<td class="never" ${at} data-count="0" title="documented, never seen">&ndash;</td>`
      return `<td class="seen" ${at} data-count="${cell.count}">${cell.count}</td>`
    }).join('')
    const documented = op.statuses.filter((s) => s.documented).length
    return `<tr data-operation="${escapeHtml(op.operationId)}"><th scope="row"><code>${escapeHtml(op.method)} ${escapeHtml(op.path)}</code><br><span class="op">${escapeHtml(op.operationId)}</span></th>${cells}<td data-never-seen="${op.neverSeen.length}">${documented - op.neverSeen.length} of ${documented}</td></tr>`
  }).join('\n')
  const violations = report.violations.length === 0
    ? '<p id="no-violations">No violations.</p>'
    : `<table id="violations"><thead><tr><th scope="col">code</th><th scope="col">count</th><th scope="col">example location</th><th scope="col">example message</th></tr></thead><tbody>
${report.violations.map((v) => `<tr data-code="${escapeHtml(v.code)}"><td class="left"><code>${escapeHtml(v.code)}</code></td><td data-count="${v.count}">${v.count}</td><td class="left"><code>${escapeHtml(v.example.location)}</code></td><td class="left">${escapeHtml(v.example.message)}</td></tr>`).join('\n')}
</tbody></table>`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Contract coverage</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Contract coverage</h1>
<p>Statuses produced for ${scope}: <span id="requests">${report.requests}</span> requests.</p>
<p class="legend"><span class="seen">n</span> documented, seen n times <span class="never">&ndash;</span> documented, never seen <span class="undocumented">n !</span> not documented for the operation <span>none</span> a transport fault left no response</p>
<table id="matrix">
<thead><tr><th scope="col">operation</th>${head}<th scope="col">covered</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<h2>Violations</h2>
${violations}
</body>
</html>
`
}
