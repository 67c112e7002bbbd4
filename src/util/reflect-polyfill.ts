/**
 * The few Reflect metadata functions @peculiar/x509's dependency tsyringe
 * insists on at load time (it throws without a "reflect polyfill"). Nothing
 * here uses decorators' design metadata, so a WeakMap store is enough; an
 * existing implementation (reflect-metadata) is left alone. Import this
 * module before @peculiar/x509.
 */
type Store = Map<unknown, unknown>;
const stores = new WeakMap<object, Map<string | symbol | undefined, Store>>();

function store(target: object, property: string | symbol | undefined, create: boolean): Store | undefined {
  let byProperty = stores.get(target);
  if (byProperty === undefined) {
    if (!create) return undefined;
    byProperty = new Map();
    stores.set(target, byProperty);
  }
  let s = byProperty.get(property);
  if (s === undefined && create) {
    s = new Map();
    byProperty.set(property, s);
  }
  return s;
}

interface MetadataReflect {
  getMetadata?: unknown;
  getOwnMetadata?: unknown;
  defineMetadata?: unknown;
  hasMetadata?: unknown;
  hasOwnMetadata?: unknown;
  metadata?: unknown;
}

const R = Reflect as unknown as MetadataReflect;
if (typeof R.getMetadata !== "function") {
  const getOwn = (key: unknown, target: object, property?: string | symbol) =>
    store(target, property, false)?.get(key);
  const get = (key: unknown, target: object, property?: string | symbol): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const s = store(t, property, false);
      if (s?.has(key)) return s.get(key);
    }
    return undefined;
  };
  const define = (key: unknown, value: unknown, target: object, property?: string | symbol) => {
    store(target, property, true)!.set(key, value);
  };
  Object.assign(R, {
    getOwnMetadata: getOwn,
    getMetadata: get,
    defineMetadata: define,
    hasOwnMetadata: (key: unknown, target: object, property?: string | symbol) =>
      store(target, property, false)?.has(key) ?? false,
    hasMetadata: (key: unknown, target: object, property?: string | symbol) =>
      get(key, target, property) !== undefined,
    metadata:
      (key: unknown, value: unknown) =>
      (target: object, property?: string | symbol): void =>
        define(key, value, target, property),
  });
}

export {};
