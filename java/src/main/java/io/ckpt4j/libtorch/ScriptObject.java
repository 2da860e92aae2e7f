package io.ckpt4j.libtorch;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An instance of a TorchScript class that a TorchScript method returned (a {@code @torch.jit.script}
 * class, or a submodule): its qualified class name and its attributes in declaration order, each
 * converted as {@link ScriptModel#forward(java.util.List)} converts return values.
 *
 * @param className the TorchScript qualified name, e.g. {@code "__torch__.TorchScriptClass"}
 * @param attributes attribute name to value, in the class's slot order (read-only)
 */
public record ScriptObject(String className, Map<String, Object> attributes) {
  public ScriptObject {
    Objects.requireNonNull(className, "className");
    attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
  }
}
