import type { RouteConfig } from '../config/types.js';

/**
 * Longest-prefix routing over PAN digits (docs/protocol.md section 4) as a digit
 * trie: at most 19 array steps per lookup, no allocation. Rebuilt whole on
 * config reload and swapped in, so a lookup never sees half a table.
 */

interface Node {
  issuer: string | undefined;
  readonly next: (Node | undefined)[];
}

function newNode(): Node {
  return { issuer: undefined, next: new Array<Node | undefined>(10) };
}

export class RouteTable {
  private readonly root: Node = newNode();
  readonly size: number;

  constructor(routes: readonly RouteConfig[]) {
    for (const route of routes) {
      let node = this.root;
      for (let i = 0; i < route.prefix.length; i++) {
        const digit = route.prefix.charCodeAt(i) - 48;
        if (digit < 0 || digit > 9) throw new RangeError(`route prefix must be digits: ${route.prefix}`);
        let child = node.next[digit];
        if (child === undefined) {
          child = newNode();
          node.next[digit] = child;
        }
        node = child;
      }
      node.issuer = route.issuer;
    }
    this.size = routes.length;
  }

  /** The issuer of the longest matching prefix, or undefined (rc 15). Stops at the first non-digit. */
  lookup(pan: string): string | undefined {
    let node: Node | undefined = this.root;
    let found: string | undefined;
    for (let i = 0; i < pan.length && node !== undefined; i++) {
      const digit = pan.charCodeAt(i) - 48;
      if (digit < 0 || digit > 9) break;
      node = node.next[digit];
      if (node?.issuer !== undefined) found = node.issuer;
    }
    return found;
  }
}
