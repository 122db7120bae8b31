import { UnionFind } from '../util/union-find.js';

/** A candidate duplicate link between two distinct texts (indices), with its energy. */
export interface Link {
  a: number;
  b: number;
  energy: number;
}

export const CLUSTERINGS = ['components', 'community'] as const;
export type Clustering = (typeof CLUSTERINGS)[number];

/** Cluster label per item (-1: in no cluster) plus each cluster's centre. */
export interface Clusters {
  labels: Int32Array;
  centres: number[];
}

/**
 * Connected components of the links (union-find). Cheap, but a chain A~B~C joins A and C
 * however far apart they are.
 */
export function connectedComponents(n: number, links: Link[], centrality: Float64Array): Clusters {
  const uf = new UnionFind(n);
  for (const l of links) uf.union(l.a, l.b);
  const labels = new Int32Array(n).fill(-1);
  const byRoot = new Map<number, number>();
  const centres: number[] = [];
  const linked = new Uint8Array(n);
  for (const l of links) linked[l.a] = linked[l.b] = 1;
  for (let i = 0; i < n; i++) {
    if (!linked[i]) continue;
    const root = uf.find(i);
    let c = byRoot.get(root);
    if (c === undefined) {
      c = centres.length;
      byRoot.set(root, c);
      centres.push(i);
    }
    labels[i] = c;
    if (centrality[i] > centrality[centres[c]]) centres[c] = i;
  }
  return { labels, centres };
}

/**
 * Greedy community detection (as sentence-transformers' community_detection): items with the
 * most links under the threshold become centres first; a centre takes only its own unassigned
 * neighbours. Membership needs closeness to the centre itself, so chains do not merge.
 */
export function communities(n: number, links: Link[]): Clusters {
  const neighbours: number[][] = Array.from({ length: n }, () => []);
  for (const l of links) {
    neighbours[l.a].push(l.b);
    neighbours[l.b].push(l.a);
  }
  const order = [...Array(n).keys()].filter((i) => neighbours[i].length > 0).sort((x, y) => neighbours[y].length - neighbours[x].length || x - y);
  const labels = new Int32Array(n).fill(-1);
  const centres: number[] = [];
  for (const centre of order) {
    if (labels[centre] !== -1) continue;
    const members = neighbours[centre].filter((m) => labels[m] === -1);
    if (members.length === 0) continue;
    const c = centres.length;
    centres.push(centre);
    labels[centre] = c;
    for (const m of members) labels[m] = c;
  }
  return { labels, centres };
}
