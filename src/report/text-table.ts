/** A table of already formatted cells that each output format draws its own way (table, Markdown, HTML). */
export interface TextTable {
  head: string[];
  rows: string[][];
}
