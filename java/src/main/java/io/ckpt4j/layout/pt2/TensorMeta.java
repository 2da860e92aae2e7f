package io.ckpt4j.layout.pt2;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A tensor's description in torch.export's schema ({@code TensorMeta}): dtype code, sizes and
 * strides and storage offset as {@code SymInt}s ({@code {"as_int": n}} or {@code {"as_expr":
 * {"expr_str": "s0", ...}}}), requires_grad, device, layout.
 *
 * @param dtypeCode the schema's ScalarType code ({@link ExportScalarType})
 * @param sizes each a {@code Long} or, for a symbolic size, its expression as a {@code String}
 *     ({@code s0}: the archive's sympy {@code srepr} text with each {@code Symbol('s0', ...)}
 *     written as its name and each {@code Integer(n)} as n)
 * @param strides like {@code sizes}
 * @param storageOffset a {@code Long} or an expression
 * @param device {@code cpu}, {@code cuda:0}: torch.device's text
 * @param layout the schema's Layout code ({@link #STRIDED} for a dense tensor)
 */
public record TensorMeta(long dtypeCode, List<Object> sizes, List<Object> strides,
    Object storageOffset, boolean requiresGrad, String device, long layout) {
  /** {@code Layout.Strided}: a dense tensor, the only layout whose raw bytes are its elements. */
  public static final long STRIDED = 7;

  static final String AS_INT = "as_int";
  static final String AS_EXPR = "as_expr";
  static final String EXPR_STR = "expr_str";
  /** sympy's srepr of a symbol, {@code Symbol('s0', positive=True, integer=True)}. */
  private static final Pattern SYMBOL = Pattern.compile("Symbol\\('([^']*)'(?:, [^()]*)?\\)");
  /** sympy's srepr of an integer, {@code Integer(2)}. */
  private static final Pattern INTEGER = Pattern.compile("Integer\\((-?\\d+)\\)");

  public TensorMeta {
    sizes = Collections.unmodifiableList(new ArrayList<>(sizes));
    strides = Collections.unmodifiableList(new ArrayList<>(strides));
  }

  /** Reads a TensorMeta object; {@code where} names it in errors. */
  static TensorMeta parse(JsonNode node, String where) throws CheckpointException {
    if (!node.isObject()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + ": tensor_meta is not an object: corrupt PT2 archive");
    }
    JsonNode device = Pt2Json.object(node, "device", where);
    String type = Pt2Json.text(device, "type", where + " device");
    JsonNode index = device.get("index");
    String location = type;
    if (index != null && !index.isNull()) {
      if (!index.isIntegralNumber() || !index.canConvertToLong() || index.longValue() < 0) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            where + ": device index " + index + " is not a device number: corrupt PT2 archive");
      }
      location = type + ":" + index.longValue();
    }
    return new TensorMeta(Pt2Json.integer(node, "dtype", where),
        symInts(Pt2Json.array(node, "sizes", where), "sizes", where),
        symInts(Pt2Json.array(node, "strides", where), "strides", where),
        symInt(node.get("storage_offset"), "storage_offset", where),
        Pt2Json.bool(node, "requires_grad", where), location,
        Pt2Json.integer(node, "layout", where));
  }

  private static List<Object> symInts(JsonNode array, String field, String where)
      throws CheckpointException {
    List<Object> out = new ArrayList<>(array.size());
    for (JsonNode item : array) out.add(symInt(item, field, where));
    return out;
  }

  /** A SymInt: {@code {"as_int": n}} → Long, {@code {"as_expr": {"expr_str": e}}} → e. */
  static Object symInt(JsonNode node, String field, String where) throws CheckpointException {
    if (node != null && node.isObject() && node.size() == 1) {
      JsonNode n = node.get(AS_INT);
      if (n != null && n.isIntegralNumber() && n.canConvertToLong()) return n.longValue();
      JsonNode expr = node.get(AS_EXPR);
      if (expr != null && expr.isObject()) {
        return readable(Pt2Json.text(expr, EXPR_STR, where));
      }
    }
    throw new CheckpointException(Kind.MALFORMED_CONTAINER, where + ": " + field + " holds "
        + abbreviate(String.valueOf(node)) + ", not a SymInt ({\"as_int\": n} or {\"as_expr\":"
        + " ...}): corrupt PT2 archive");
  }

  /** An expression as people read it: symbols by their names, integers as digits. */
  static String readable(String srepr) {
    String named = SYMBOL.matcher(srepr).replaceAll("$1");
    return INTEGER.matcher(named).replaceAll("$1");
  }

  /** torch's name for the dtype ({@code float32}); empty for a code the schema does not have. */
  public Optional<String> dtypeName() {
    return ExportScalarType.pythonName(dtypeCode);
  }

  /** The sizes as numbers; refused when one is symbolic (a stored tensor has fixed sizes). */
  public long[] concreteSizes(String where) throws CheckpointException {
    return concrete(sizes, "sizes", where);
  }

  /** The strides as numbers; refused when one is symbolic. */
  public long[] concreteStrides(String where) throws CheckpointException {
    return concrete(strides, "strides", where);
  }

  /** The storage offset as a number; refused when symbolic. */
  public long concreteStorageOffset(String where) throws CheckpointException {
    return concrete(List.of(storageOffset), "storage_offset", where)[0];
  }

  private static long[] concrete(List<Object> values, String field, String where)
      throws CheckpointException {
    long[] out = new long[values.size()];
    for (int i = 0; i < out.length; i++) {
      if (!(values.get(i) instanceof Long n)) {
        throw new CheckpointException(Kind.INVALID_TENSOR, where + " has symbolic " + field
            + " " + values + ": a stored tensor has fixed sizes; corrupt PT2 archive");
      }
      out[i] = n;
    }
    return out;
  }

  private static String abbreviate(String text) {
    final int max = 60;
    return text.length() <= max ? text : text.substring(0, max) + "...";
  }
}
