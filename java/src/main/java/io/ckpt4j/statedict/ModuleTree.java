package io.ckpt4j.statedict;

import io.ckpt4j.OwnedResource;
import io.ckpt4j.value.PyOrderedDict;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringSharedModuleDict;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;

/**
 * A LibTorch module tree as Python's {@code state_dict} and {@code load_state_dict} walk it: each
 * module with its own parameters, then its own buffers (registration order), then its children.
 *
 * <p>LibTorch's recursive {@code named_parameters()} lists every parameter of the tree before any
 * buffer, which is not Python's order, so the walk asks each module for its own entries
 * ({@code recurse=false}) and recurses itself. Owns a reference to every tensor and module it
 * holds; {@link #close()} releases them.
 */
final class ModuleTree extends OwnedResource {
  /** Deeper module nesting than this is a cycle or a broken tree, not a model. */
  static final int MAX_DEPTH = 1_000;

  /** Python's {@code _version} of the norm layers that added {@code num_batches_tracked}. */
  static final long NORM_VERSION = 2;
  /** {@code nn.Module._version}. */
  static final long MODULE_VERSION = 1;

  /** One parameter or buffer of a module: its local name and a reference to its tensor. */
  record Local(String name, Tensor tensor, boolean parameter) {}

  private final String prefix;
  private final Module module;
  private final String typeName;
  private final List<Local> locals = new ArrayList<>();
  private final List<String> childNames = new ArrayList<>();
  private final List<ModuleTree> children = new ArrayList<>();

  private final boolean ownsModule;

  private ModuleTree(String prefix, Module module, boolean ownsModule) {
    this.prefix = prefix;
    this.module = module;
    this.ownsModule = ownsModule;
    this.typeName = string(module.name());
  }

  /** The tree of {@code root}, which stays the caller's (it is not closed with the tree). */
  static ModuleTree of(Module root) {
    return build("", root, false, 0);
  }

  /** Python's {@code module.state_dict()}, tensors detached. */
  static StateDict stateDict(Module root) {
    try (ModuleTree tree = of(root)) {
      StateDict out = StateDict.empty();
      PyOrderedDict metadata = Metadata.newMetadata();
      tree.collect(out, metadata);
      out.setMetadata(metadata);
      return out;
    }
  }

  private void collect(StateDict out, PyOrderedDict metadata) {
    metadata.put(modulePrefix(), Metadata.entry(version()));
    for (Local local : locals) out.putOwned(prefix + local.name(), local.tensor().detach());
    for (ModuleTree child : children) child.collect(out, metadata);
  }

  private static ModuleTree build(String prefix, Module module, boolean owned, int depth) {
    if (depth > MAX_DEPTH) {
      if (owned) module.close();
      throw new IllegalStateException("module tree deeper than " + MAX_DEPTH + " at '" + prefix
          + "': a module that contains itself?");
    }
    ModuleTree node = new ModuleTree(prefix, module, owned);
    try {
      try (StringTensorDict params = module.named_parameters(false)) {
        node.addLocals(params, true);
      }
      try (StringTensorDict buffers = module.named_buffers(false)) {
        node.addLocals(buffers, false);
      }
      try (StringSharedModuleDict children = module.named_children();
          StringVector names = children.keys()) {
        for (long i = 0; i < names.size(); i++) {
          String name = string(names.get(i));
          Module child = children.get(name);
          node.childNames.add(name);
          node.children.add(build(prefix + name + ".", child, true, depth + 1));
        }
      }
      return node;
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
  }

  private void addLocals(StringTensorDict dict, boolean parameter) {
    try (StringVector names = dict.keys()) {
      for (long i = 0; i < names.size(); i++) {
        String name = string(names.get(i));
        Tensor t = dict.get(name);
        // LibTorch registers an undefined tensor for an absent parameter (Linear(bias=false)),
        // where Python registers None; state_dict leaves both out.
        if (t.defined()) locals.add(new Local(name, new Tensor(t), parameter));
      }
    }
  }

  /** The text of a std::string JavaCPP copied out, released at once. */
  private static String string(BytePointer copy) {
    try (copy) {
      return copy.getString(StandardCharsets.UTF_8);
    }
  }

  /** The key prefix of this module's entries: {@code ""} or {@code "layer1.0."}. */
  String prefix() {
    return prefix;
  }

  /** The module's key in {@code _metadata}: its prefix without the trailing dot. */
  String modulePrefix() {
    return prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1);
  }

  Module module() {
    return module;
  }

  /** LibTorch's name of the module's class, e.g. {@code torch::nn::BatchNorm2dImpl}. */
  String typeName() {
    return typeName;
  }

  List<Local> locals() {
    return locals;
  }

  List<String> childNames() {
    return childNames;
  }

  List<ModuleTree> children() {
    return children;
  }

  /**
   * The Python {@code _version} of the module's class: 2 for the batch and instance norms (the
   * version that added {@code num_batches_tracked}), 1 for the rest.
   */
  long version() {
    return isNorm() ? NORM_VERSION : MODULE_VERSION;
  }

  /** True for LibTorch's BatchNorm / InstanceNorm layers (Python's {@code _NormBase}). */
  boolean isNorm() {
    return typeName.contains("BatchNorm") || typeName.contains("InstanceNorm");
  }

  @Override
  protected void releaseResources() {
    for (ModuleTree child : children) child.close();
    for (Local local : locals) local.tensor().close();
    children.clear();
    locals.clear();
    if (ownsModule) module.close();
  }
}
