/**
 * The few pieces of the protobuf wire format that GoBGP v3's `google.protobuf.Any`
 * payloads need: varint and length-delimited fields, packed or unpacked repeated uint32.
 *
 * Why by hand: proto-loader serializes only the top-level messages of a service; the
 * attributes inside an Any are opaque bytes to it. A small, strict codec here keeps the
 * runtime free of undeclared dependencies, and test/gobgp-codec.test.ts checks it byte for
 * byte against protobufjs loaded from proto/gobgp/attribute.proto.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Builds one message. Zero scalars and empty strings are left out, as proto3 encoders do.
 * Bytes collect in a plain array and become one Buffer at the end: AddPathStream encodes
 * tens of thousands of small messages, and a typed array per nested message costs more
 * than the encoding itself.
 */
export class ProtoWriter {
  private readonly out: number[] = [];

  uint32(field: number, value: number): this {
    checkUint32(field, value);
    if (value === 0) return this;
    this.tag(field, WIRE_VARINT);
    this.varint(value);
    return this;
  }

  string(field: number, value: string): this {
    if (value === '') return this;
    if (!isAscii(value)) return this.bytes(field, textEncoder.encode(value));
    // Addresses and type URLs are ASCII: copy the char codes, skip the TextEncoder.
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.length);
    for (let i = 0; i < value.length; i++) this.out.push(value.charCodeAt(i));
    return this;
  }

  bytes(field: number, value: Uint8Array | readonly number[]): this {
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(value.length);
    for (let i = 0; i < value.length; i++) this.out.push(value[i]!);
    return this;
  }

  /** A nested message is length-delimited even when empty (its presence matters). */
  message(field: number, value: ProtoWriter): this {
    return this.bytes(field, value.out);
  }

  /** proto3 packs repeated scalars by default; upstream's Go encoder does the same. */
  packedUint32(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    let size = 0;
    for (const v of values) {
      checkUint32(field, v);
      size += varintSize(v);
    }
    this.tag(field, WIRE_LENGTH_DELIMITED);
    this.varint(size);
    for (const v of values) this.varint(v);
    return this;
  }

  finish(): Buffer {
    return Buffer.from(this.out);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  private varint(value: number): void {
    // Arithmetic, not bit operators: JavaScript's shifts are signed 32-bit.
    let v = value;
    while (v > 0x7f) {
      this.out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.out.push(v);
  }
}

function checkUint32(field: number, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`field ${field}: ${value} is not a uint32`);
  }
}

function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v > 0x7f; v = Math.floor(v / 0x80)) size++;
  return size;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** One field as read from the wire. */
export type WireField =
  | { field: number; wire: 'varint'; value: number }
  | { field: number; wire: 'bytes'; value: Uint8Array };

export class ProtoDecodeError extends Error {
  override readonly name = 'ProtoDecodeError';
}

/** Reads every field of one message, in wire order. Fixed-width fields are skipped. */
export function readFields(buf: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= buf.length) throw new ProtoDecodeError('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 0x80;
    }
    throw new ProtoDecodeError('varint longer than 10 bytes');
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) throw new ProtoDecodeError('field number 0');
    switch (wire) {
      case WIRE_VARINT:
        fields.push({ field, wire: 'varint', value: varint() });
        break;
      case WIRE_LENGTH_DELIMITED: {
        const len = varint();
        if (pos + len > buf.length) throw new ProtoDecodeError(`field ${field}: length ${len} runs past the end`);
        fields.push({ field, wire: 'bytes', value: buf.subarray(pos, pos + len) });
        pos += len;
        break;
      }
      case WIRE_FIXED64:
        pos += 8;
        break;
      case WIRE_FIXED32:
        pos += 4;
        break;
      default:
        throw new ProtoDecodeError(`field ${field}: unsupported wire type ${wire}`);
    }
  }
  if (pos > buf.length) throw new ProtoDecodeError('truncated fixed-width field');
  return fields;
}

/** The last value of a scalar field (proto3: last one wins), or 0 when absent. */
export function uint32Of(fields: readonly WireField[], field: number): number {
  let value = 0;
  for (const f of fields) if (f.field === field && f.wire === 'varint') value = f.value;
  return value;
}

export function stringOf(fields: readonly WireField[], field: number): string {
  let value = '';
  for (const f of fields) if (f.field === field && f.wire === 'bytes') value = textDecoder.decode(f.value);
  return value;
}

export function stringsOf(fields: readonly WireField[], field: number): string[] {
  return fields.filter((f) => f.field === field && f.wire === 'bytes').map((f) => textDecoder.decode(f.value as Uint8Array));
}

export function messagesOf(fields: readonly WireField[], field: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of fields) if (f.field === field && f.wire === 'bytes') out.push(f.value);
  return out;
}

/** A repeated uint32, accepting both the packed and the unpacked encoding (parsers must). */
export function uint32sOf(fields: readonly WireField[], field: number): number[] {
  const out: number[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.wire === 'varint') out.push(f.value);
    else for (const inner of readPackedVarints(f.value)) out.push(inner);
  }
  return out;
}

function readPackedVarints(buf: Uint8Array): number[] {
  const out: number[] = [];
  let result = 0;
  let scale = 1;
  for (const b of buf) {
    result += (b & 0x7f) * scale;
    if (b & 0x80) {
      scale *= 0x80;
    } else {
      out.push(result);
      result = 0;
      scale = 1;
    }
  }
  if (scale !== 1) throw new ProtoDecodeError('truncated packed varint');
  return out;
}
