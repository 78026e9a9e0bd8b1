// Unit tests for the public gallery's layout maths (web/js/layout.js).
// Run: node --test functions/test/
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  columnsFor, shortestColumn, sizesFor, tileUnits, topColumn, TILE_COVER, TILE_MAX_DENSITY,
} from "../../web/js/layout.js";

test("columnsFor: 1 below 360px, 2 below 1024px, else 3", () => {
  assert.deepEqual([0, 320, 359, 360, 390, 1023, 1024, 2560].map(columnsFor), [1, 1, 1, 2, 2, 2, 3, 3]);
});

test("tileUnits: height in column widths plus the gap", () => {
  assert.equal(tileUnits({ w: 1000, h: 500 }), 0.52);
  assert.equal(tileUnits({ w: 800, h: 1200 }), 1.52);
});

test("shortestColumn: least height, the first of (near-)equals", () => {
  assert.equal(shortestColumn([{ height: 2 }, { height: 1 }, { height: 1 }]), 1);
  assert.equal(shortestColumn([{ height: 1 }, { height: 1 - 1e-12 }]), 0);
  assert.equal(shortestColumn([{ height: 0 }]), 0);
});

test("topColumn: least added at the top, then the shortest", () => {
  const col = (topAdded, height) => ({ topAdded, height });
  assert.equal(topColumn([col(1, 0), col(0, 9), col(0.5, 0)]), 1);
  assert.equal(topColumn([col(0, 3), col(0, 2), col(0, 2)]), 1);
  assert.equal(topColumn([col(0, 1), col(0, 1)]), 0);
});

test("placing tiles in turn balances the columns", () => {
  const cols = [{ height: 0 }, { height: 0 }];
  const chosen = [1, 0.5, 0.5, 0.5].map((h) => {
    const c = shortestColumn(cols);
    cols[c].height += h;
    return c;
  });
  assert.deepEqual(chosen, [0, 1, 1, 0]);
});

test("sizesFor: slot widths scaled for density up to 2x and 80% cover", () => {
  assert.equal(TILE_MAX_DENSITY, 2);
  assert.equal(TILE_COVER, 0.8);
  assert.equal(sizesFor(1),
    "(min-width: 1024px) calc(min(33vw, 600px) * 0.800), (min-width: 360px) calc(50vw * 0.800), calc(100vw * 0.800)");
  assert.equal(sizesFor(undefined), sizesFor(1));
  assert.match(sizesFor(2), /calc\(50vw \* 0\.800\)/);
  assert.match(sizesFor(3), /calc\(50vw \* 0\.533\)/); // a 3x phone is treated as 2x
  assert.match(sizesFor(4), /calc\(100vw \* 0\.400\)$/);
});
