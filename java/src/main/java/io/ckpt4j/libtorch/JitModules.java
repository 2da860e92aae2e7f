package io.ckpt4j.libtorch;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Function;
import org.bytedeco.pytorch.FunctionVector;
import org.bytedeco.pytorch.JitModule;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NamedJitModule;
import org.bytedeco.pytorch.NamedTensor;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.named_buffer_iterator;
import org.bytedeco.pytorch.named_buffer_list;
import org.bytedeco.pytorch.named_module_iterator;
import org.bytedeco.pytorch.named_module_list;
import org.bytedeco.pytorch.named_parameter_iterator;
import org.bytedeco.pytorch.named_parameter_list;

/**
 * Walks of a TorchScript module tree ({@code torch::jit::Module}) in Python's order. Callers run
 * these inside a {@link org.bytedeco.javacpp.PointerScope}; tensors handed out are taken out of it.
 */
final class JitModules {
  private JitModules() {}

  /**
   * What Python's {@code scripted.state_dict()} gives: for each module, depth first, its
   * parameters, then its buffers, then its children's entries under {@code name.}; detached
   * tensors that share the module's storage. TorchScript keeps no "persistent" flag, so
   * non-persistent buffers are in it, as in Python.
   */
  static Map<String, Tensor> stateDict(JitModule module) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    collect(module, "", out);
    return out;
  }

  private static void collect(JitModule module, String prefix, Map<String, Tensor> out) {
    for (Map.Entry<String, Tensor> p : parameters(module).entrySet()) {
      out.put(prefix + p.getKey(), ScriptResults.keep(p.getValue().detach()));
    }
    for (Map.Entry<String, Tensor> b : buffers(module).entrySet()) {
      out.put(prefix + b.getKey(), ScriptResults.keep(b.getValue().detach()));
    }
    for (Map.Entry<String, JitModule> c : children(module).entrySet()) {
      collect(c.getValue(), prefix + c.getKey() + ".", out);
    }
  }

  /** The module's own parameters (not its children's), by attribute name, in slot order. */
  static Map<String, Tensor> parameters(JitModule module) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    named_parameter_list list = module.named_parameters(false);
    named_parameter_iterator end = list.end();
    for (named_parameter_iterator it = list.begin(); it.notEquals(end); it.increment()) {
      NamedTensor named = it.access();
      out.put(string(named.name()), named.value());
    }
    return out;
  }

  /** The module's own buffers, by attribute name, in slot order. */
  static Map<String, Tensor> buffers(JitModule module) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    named_buffer_list list = module.named_buffers(false);
    named_buffer_iterator end = list.end();
    for (named_buffer_iterator it = list.begin(); it.notEquals(end); it.increment()) {
      NamedTensor named = it.access();
      out.put(string(named.name()), named.value());
    }
    return out;
  }

  /** The module's direct submodules, by attribute name, in slot order. */
  static Map<String, JitModule> children(JitModule module) {
    Map<String, JitModule> out = new LinkedHashMap<>();
    named_module_list list = module.named_children();
    named_module_iterator end = list.end();
    for (named_module_iterator it = list.begin(); it.notEquals(end); it.increment()) {
      NamedJitModule named = it.access();
      out.put(string(named.name()), named.value());
    }
    return out;
  }

  /** The names of the root module's methods, in definition order. */
  static List<String> methodNames(JitModule module) {
    List<String> names = new ArrayList<>();
    FunctionVector methods = module.type().methods();
    for (long i = 0; i < methods.size(); i++) {
      Function f = methods.get(i);
      names.add(string(f.name()));
    }
    return names;
  }

  /**
   * An {@code nn::Module} tree with the TorchScript module's names whose parameters and buffers
   * are the TorchScript module's own tensors (the same tensor objects, not copies). It has no
   * forward; see {@link ScriptModel#module()}. Every module made is added to {@code made}, root
   * first: the caller keeps them reachable (JavaCPP calls a Java-made module's virtual methods,
   * such as {@code to} or {@code save}, through its Java object) and closes them.
   */
  static Module parameterView(JitModule module, List<Module> made) {
    Module view = ScriptResults.keep(new Module(string(module.type().str())));
    made.add(view);
    for (Map.Entry<String, Tensor> p : parameters(module).entrySet()) {
      Tensor t = p.getValue();
      view.register_parameter(p.getKey(), t, t.requires_grad());
    }
    for (Map.Entry<String, Tensor> b : buffers(module).entrySet()) {
      view.register_buffer(b.getKey(), b.getValue());
    }
    for (Map.Entry<String, JitModule> c : children(module).entrySet()) {
      view.register_module(c.getKey(), parameterView(c.getValue(), made));
    }
    return view;
  }

  private static String string(org.bytedeco.javacpp.BytePointer p) {
    return p.getString(StandardCharsets.UTF_8);
  }
}
