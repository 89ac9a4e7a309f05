/** The one stylesheet of the pages people read; inline, allowed by its hash (no external source). */
export const PAGE_STYLE = `
:root{color-scheme:light dark;--fg:#1b1d21;--muted:#5d6470;--bg:#fafaf7;--card:#fff;--line:#e2e2dc;--accent:#2b59c3;--ok:#1f7a3f;--warn:#8a5a00;--bad:#b3261e}
@media (prefers-color-scheme:dark){:root{--fg:#e8e8e3;--muted:#a2a8b3;--bg:#15171a;--card:#1d2024;--line:#30343a;--accent:#8fb0ff;--ok:#6fd08f;--warn:#e0b050;--bad:#ff8a80}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:52rem;margin:0 auto;padding:2.5rem 1.25rem 3rem}
h1{font-size:1.9rem;line-height:1.2;margin:.2rem 0 .6rem}
h2{font-size:1.15rem;margin:2rem 0 .75rem}
h3{font-size:1.1rem;margin:0 0 .4rem}
a{color:var(--accent)}
code{font:.88em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
pre{font:.85em/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);border:1px solid var(--line);border-radius:8px;padding:.75rem;overflow:auto;max-height:24rem;white-space:pre-wrap;overflow-wrap:anywhere}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:.78rem;color:var(--muted);margin:0}
.lead{font-size:1.08rem;margin:.2rem 0 1rem;overflow-wrap:anywhere}
.muted{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.1rem 1.25rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.35rem 1rem;margin:.5rem 0 0}
dt{color:var(--muted)}
dd{margin:0;min-width:0;overflow-wrap:anywhere}
.amount{font-size:1.35rem;font-weight:650}
.badge{display:inline-block;font-size:.75rem;font-weight:600;border-radius:999px;padding:.05rem .55rem;border:1px solid currentColor;vertical-align:middle}
.badge.draining{color:var(--warn)}
button{font:inherit;font-weight:600;margin-top:1rem;padding:.6rem 1.1rem;border-radius:8px;border:0;background:var(--accent);color:#fff;cursor:pointer}
@media (prefers-color-scheme:dark){button{color:#10131a}}
button:disabled{opacity:.55;cursor:progress}
#pay-status{min-height:1.5rem;margin:1rem 0 0}
#pay-status.ok{color:var(--ok)}#pay-status.warn{color:var(--warn)}#pay-status.error{color:var(--bad)}
ul.links{padding-left:1.2rem;margin:.4rem 0}
footer{margin-top:2.5rem;padding-top:1rem;border-top:1px solid var(--line);color:var(--muted);font-size:.92rem}
@media (max-width:34rem){dl{grid-template-columns:1fr}dt{margin-top:.4rem}}
`.trim();
