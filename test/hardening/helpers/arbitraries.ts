import fc from "fast-check";

/** Any JSON value, nested up to four levels: the wrong-type input every fuzz suite throws at every field. */
export function jsonValue(): fc.Arbitrary<unknown> {
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 4 },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string(),
      fc.string({ unit: "grapheme", maxLength: 40 }),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 8 }), tie("value"), { maxKeys: 4 }),
    ),
  })).value;
}
