// Generates the benchmark notebook: code cells that print, each with one
// stream output, in nbformat 4.5 JSON, and the Yjs state that
// @jupyter/ydoc's YNotebook builds from it.
import { YNotebook } from '@jupyter/ydoc';
import * as Y from 'yjs';

// generateNotebook returns an nbformat 4.5 notebook of `cells` code cells.
// Cell i prints `lines` lines; the content depends only on the arguments.
export function generateNotebook(cells = 2000, lines = 12) {
  const out = [];
  for (let i = 0; i < cells; i++) {
    const source = [
      `# step ${i}: summarise batch ${i % 97}\n`,
      `for row in range(${lines}):\n`,
      `    print(f"batch ${i} row {row}: value={row * ${i + 1}} status=ok")`,
    ];
    const text = [];
    for (let row = 0; row < lines; row++) {
      text.push(`batch ${i} row ${row}: value=${row * (i + 1)} status=ok\n`);
    }
    out.push({
      cell_type: 'code',
      execution_count: i + 1,
      id: `cell-${String(i).padStart(5, '0')}`,
      metadata: {},
      outputs: [{ name: 'stdout', output_type: 'stream', text }],
      source,
    });
  }
  return {
    cells: out,
    metadata: {
      kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
      language_info: { name: 'python' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

// notebookFile returns the notebook as a .ipynb file body, indented by one
// space as Jupyter writes notebooks.
export function notebookFile(notebook) {
  return `${JSON.stringify(notebook, null, 1)}\n`;
}

// notebookState returns the Yjs update that contains the whole notebook, as
// YNotebook builds it from the JSON. Stream texts are joined first: YNotebook
// 4.0.0 joins a multiline (array) text with commas, where nbformat means
// plain concatenation.
export function notebookState(notebook) {
  const copy = structuredClone(notebook);
  for (const cell of copy.cells) {
    for (const output of cell.outputs ?? []) {
      if (Array.isArray(output.text)) output.text = output.text.join('');
    }
  }
  const model = new YNotebook();
  model.fromJSON(copy);
  const update = Y.encodeStateAsUpdate(model.ydoc);
  model.dispose();
  return update;
}
