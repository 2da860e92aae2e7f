package io.ckpt4j.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ckpt4j.layout.pt2.AotiConstant;
import io.ckpt4j.layout.pt2.AotiDim;
import io.ckpt4j.layout.pt2.AotiInput;
import io.ckpt4j.layout.pt2.AotiPackage;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What {@code inspect} says about an AOTInductor model of a .pt2: the device, platform and CPU
 * instruction sets it was compiled for, its inputs (dtype, sizes, dynamic bounds), outputs and
 * constants, and whether it takes new weights. From the package's metadata and generated source
 * ({@link AotiPackage}); the compiled library is neither loaded nor run.
 */
final class InspectAoti {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private InspectAoti() {}

  static void print(AotiPackage p, PrintWriter out) {
    out.printf("AOTInductor model '%s' (compiled code, run only by ckpt4j run / ExportedModel):"
        + " device %s, %s %s, CPU ISA %s, torch %s%n", p.model(), p.device(),
        text(p.metadata().get(AotiPackage.PLATFORM_KEY)),
        text(p.metadata().get(AotiPackage.MACHINE_KEY)),
        p.cpuIsa().isEmpty() ? "-" : String.join(" ", p.cpuIsa()),
        p.torchVersion() == null ? "not recorded" : p.torchVersion());
    for (AotiInput in : p.inputs()) {
      out.printf("  input %d:  %s on %s%n", in.index(), in, in.deviceName());
    }
    for (int i = 0; i < p.outputs().size(); i++) {
      out.printf("  output %d: %s%n", i, p.outputs().get(i));
    }
    List<String> constants = new ArrayList<>();
    for (AotiConstant c : p.constants()) constants.add(c.toString());
    out.printf("  constants (%d): %s%n", constants.size(), String.join(", ", constants));
    out.printf("  weights swappable: %s%n", p.runtimeConstantFolding() ? "yes (runtime constant"
        + " folding)" : "no (compiled without aot_inductor.use_runtime_constant_folding)");
  }

  static ObjectNode json(AotiPackage p) {
    ObjectNode node = NODES.objectNode();
    node.put("device", p.device());
    ArrayNode isa = node.putArray("cpu_isa");
    p.cpuIsa().forEach(isa::add);
    ObjectNode metadata = node.putObject("metadata");
    for (Map.Entry<String, String> e : p.metadata().entrySet()) {
      if (e.getValue() == null) metadata.putNull(e.getKey());
      else metadata.put(e.getKey(), e.getValue());
    }
    ArrayNode inputs = node.putArray("inputs");
    for (AotiInput in : p.inputs()) {
      ObjectNode i = inputs.addObject();
      i.put("name", in.name());
      i.put("dtype", in.dtype());
      i.put("device", in.deviceName());
      ArrayNode sizes = i.putArray("sizes");
      for (AotiDim d : in.dims()) {
        if (!d.isDynamic()) {
          sizes.add(d.size());
          continue;
        }
        ArrayNode range = sizes.addArray().add(d.min());
        if (d.max() == null) range.addNull();
        else range.add(d.max());
      }
    }
    ArrayNode outputs = node.putArray("outputs");
    p.outputs().forEach(outputs::add);
    ArrayNode constants = node.putArray("constants");
    for (AotiConstant c : p.constants()) {
      ObjectNode o = constants.addObject();
      o.put("fqn", c.fqn());
      o.put("name", c.name());
      o.put("dtype", c.dtype());
      ArrayNode shape = o.putArray("shape");
      for (long size : c.shape()) shape.add(size);
      o.put("folded", c.fromFolded());
    }
    node.put("weights_swappable", p.runtimeConstantFolding());
    return node;
  }

  private static String text(String value) {
    return value == null || value.isBlank() ? "?" : value;
  }
}
