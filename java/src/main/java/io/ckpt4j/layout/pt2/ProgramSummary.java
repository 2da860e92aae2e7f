package io.ckpt4j.layout.pt2;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a serialized ExportedProgram ({@code models/<name>.json}) says about itself, read as data:
 * the schema and torch versions, the graph signature (each input and output with its kind, graph
 * name and target), the user inputs' dtypes and sizes (symbols for dynamic dimensions) and the
 * ranges of those symbols. The graph's nodes are not read.
 *
 * @param schemaVersion {@code major.minor} of torch.export's serialization schema
 * @param torchVersion the torch that exported it ({@code 2.13.0+cpu})
 * @param inputs {@code graph_signature.input_specs}, in order
 * @param outputs {@code graph_signature.output_specs}, in order
 * @param userInputs the user inputs' tensor metadata by graph name (tensors only)
 * @param rangeConstraints symbol → {min, max}; max null for no upper bound
 */
public record ProgramSummary(String schemaVersion, String torchVersion, List<Spec> inputs,
    List<Spec> outputs, Map<String, TensorMeta> userInputs,
    Map<String, Long[]> rangeConstraints) {
  /**
   * One input or output spec: {@code kind} as torch's InputKind / OutputKind name
   * ({@code PARAMETER}, {@code BUFFER}, {@code CONSTANT_TENSOR}, {@code USER_INPUT},
   * {@code USER_OUTPUT}, ...), the graph's name for it, its target (the state_dict or constants
   * name; null for user inputs and outputs) and, for a buffer, whether it is persistent.
   */
  public record Spec(String kind, String name, String target, Boolean persistent) {}

  /** Spec field (in the schema's union) → torch's InputKind name and the target's field. */
  private static final Map<String, String[]> INPUT_KINDS = Map.of(
      "user_input", new String[] {"USER_INPUT", null},
      "parameter", new String[] {"PARAMETER", "parameter_name"},
      "buffer", new String[] {"BUFFER", "buffer_name"},
      "tensor_constant", new String[] {"CONSTANT_TENSOR", "tensor_constant_name"},
      "custom_obj", new String[] {"CUSTOM_OBJ", "custom_obj_name"},
      "token", new String[] {"TOKEN", null},
      "constant_input", new String[] {"USER_INPUT", null});
  private static final Map<String, String[]> OUTPUT_KINDS = Map.of(
      "user_output", new String[] {"USER_OUTPUT", null},
      "loss_output", new String[] {"LOSS_OUTPUT", null},
      "buffer_mutation", new String[] {"BUFFER_MUTATION", "buffer_name"},
      "gradient_to_parameter", new String[] {"GRADIENT_TO_PARAMETER", "parameter_name"},
      "gradient_to_user_input", new String[] {"GRADIENT_TO_USER_INPUT", "user_input_name"},
      "user_input_mutation", new String[] {"USER_INPUT_MUTATION", "user_input_name"},
      "token", new String[] {"TOKEN", null},
      "parameter_mutation", new String[] {"PARAMETER_MUTATION", "parameter_name"});

  public ProgramSummary {
    inputs = List.copyOf(inputs);
    outputs = List.copyOf(outputs);
    userInputs = Collections.unmodifiableMap(new LinkedHashMap<>(userInputs));
    rangeConstraints = Collections.unmodifiableMap(new LinkedHashMap<>(rangeConstraints));
  }

  /** Reads the summary of the serialized program {@code root} (record {@code where}). */
  static ProgramSummary parse(JsonNode root, String where) throws CheckpointException {
    JsonNode version = Pt2Json.object(root, "schema_version", where);
    String schema = Pt2Json.integer(version, "major", where) + "."
        + Pt2Json.integer(version, "minor", where);
    String torch = Pt2Json.optionalText(root, "torch_version", where);
    JsonNode module = Pt2Json.object(root, "graph_module", where);
    JsonNode signature = Pt2Json.object(module, "signature", where);
    List<Spec> inputs = specs(Pt2Json.array(signature, "input_specs", where), INPUT_KINDS, where);
    List<Spec> outputs = specs(Pt2Json.array(signature, "output_specs", where), OUTPUT_KINDS,
        where);
    JsonNode values = Pt2Json.object(Pt2Json.object(module, "graph", where), "tensor_values",
        where);
    Map<String, TensorMeta> userInputs = new LinkedHashMap<>();
    for (Spec spec : inputs) {
      JsonNode meta = spec.kind().equals("USER_INPUT") && spec.name() != null
          ? values.get(spec.name()) : null;
      if (meta != null) {
        userInputs.put(spec.name(), TensorMeta.parse(meta, where + " input " + spec.name()));
      }
    }
    Map<String, Long[]> ranges = new LinkedHashMap<>();
    JsonNode constraints = root.get("range_constraints");
    if (constraints != null && constraints.isObject()) {
      for (Map.Entry<String, JsonNode> e : constraints.properties()) {
        String at = where + " range of " + e.getKey();
        ranges.put(e.getKey(), new Long[] {bound(e.getValue(), "min_val", at),
            bound(e.getValue(), "max_val", at)});
      }
    }
    return new ProgramSummary(schema, torch, inputs, outputs, userInputs, ranges);
  }

  private static Long bound(JsonNode range, String field, String where)
      throws CheckpointException {
    JsonNode n = range.get(field);
    if (n == null || n.isNull()) return null;
    if (!n.isIntegralNumber()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + ": " + field + " is not a whole number: corrupt PT2 archive");
    }
    // torch writes int_oo (no bound) as a huge number; beyond a long it is "no bound".
    return n.canConvertToLong() ? n.longValue() : null;
  }

  private static List<Spec> specs(JsonNode array, Map<String, String[]> kinds, String where)
      throws CheckpointException {
    List<Spec> out = new ArrayList<>();
    for (JsonNode item : array) {
      if (!item.isObject() || item.size() != 1) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            where + ": a signature spec is not a one-field object: corrupt PT2 archive");
      }
      Map.Entry<String, JsonNode> only = item.properties().iterator().next();
      String[] kind = kinds.get(only.getKey());
      if (kind == null) {
        throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, where + ": signature spec '"
            + only.getKey() + "' is not one torch 2.13's schema has: exported by a newer torch");
      }
      JsonNode body = only.getValue();
      String target = kind[1] == null ? null : Pt2Json.optionalText(body, kind[1], where);
      JsonNode persistent = body.get("persistent");
      out.add(new Spec(kind[0], argumentName(body.get("arg")), target,
          persistent != null && persistent.isBoolean() ? persistent.booleanValue() : null));
    }
    return out;
  }

  /**
   * The graph name of a spec's argument: {@code {"name": n}} (TensorArgument) or an Argument
   * union holding one ({@code {"as_tensor": {"name": n}}}, {@code {"as_sym_int": {"as_name":
   * n}}}); null for a constant or token.
   */
  private static String argumentName(JsonNode arg) {
    if (arg == null || !arg.isObject()) return null;
    JsonNode name = arg.get("name");
    if (name != null && name.isTextual()) return name.textValue();
    if (arg.size() == 1) {
      JsonNode inner = arg.elements().next();
      if (inner.isObject()) {
        JsonNode n = inner.has("name") ? inner.get("name") : inner.get("as_name");
        if (n != null && n.isTextual()) return n.textValue();
      }
    }
    return null;
  }
}
