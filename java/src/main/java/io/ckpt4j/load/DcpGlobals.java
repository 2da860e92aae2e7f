package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.value.PyCallable;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyTuple;
import java.util.Set;

/**
 * The globals a DCP {@code .metadata} pickle may name, and nothing else: its dataclasses
 * ({@code Metadata}, {@code TensorStorageMetadata}, ...), read as inert objects whose state is
 * their fields; {@code torch.serialization._get_layout} (a layout by name, kept as the name);
 * then torch's weights-only values (dtypes, {@code torch.Size}) and Python's harmless builtins.
 * Nothing is called.
 */
final class DcpGlobals {
  static final String METADATA_MODULE = "torch.distributed.checkpoint.metadata";
  static final String FILESYSTEM_MODULE = "torch.distributed.checkpoint.filesystem";
  /**
   * The classes, "module.Name", read as inert objects: DCP's dataclasses, and the path classes
   * {@code StorageMeta.checkpoint_id} holds when {@code dcp.save} was given a {@code Path}.
   */
  static final Set<String> DATACLASSES = Set.of(
      "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib._local.PosixPath",
      "pathlib._local.WindowsPath",
      METADATA_MODULE + ".Metadata", METADATA_MODULE + ".TensorStorageMetadata",
      METADATA_MODULE + ".ChunkStorageMetadata", METADATA_MODULE + ".BytesStorageMetadata",
      METADATA_MODULE + ".TensorProperties", METADATA_MODULE + "._MEM_FORMAT_ENCODING",
      METADATA_MODULE + ".MetadataIndex", METADATA_MODULE + ".StorageMeta",
      FILESYSTEM_MODULE + "._StorageInfo");
  /** {@code torch.serialization._get_layout(name)}: gives the layout's name, e.g. "torch.strided". */
  static final String GET_LAYOUT = "torch.serialization._get_layout";
  /** The strided layout named directly (as ckpt4j's writer names it): its name. */
  static final String STRIDED = "torch.strided";

  private DcpGlobals() {}

  /** torch's values, then Python's builtins: for every global not DCP's own. */
  private static final GlobalResolver TORCH =
      TorchGlobals.resolver().orElse(GlobalResolver.pythonBuiltins());
  private static final PyCallable LAYOUT = DcpGlobals::layoutName;

  /**
   * The resolver for a {@code .metadata}: DCP's own names looked up directly (a chain of
   * resolvers refuses by exception, which costs more than the whole lookup), the rest from
   * torch's and Python's.
   */
  static GlobalResolver resolver() {
    return (module, name) -> {
      String qualified = module + "." + name;
      if (DATACLASSES.contains(qualified)) return new PyGlobalRef(module, name);
      if (qualified.equals(GET_LAYOUT)) return LAYOUT;
      if (qualified.equals(STRIDED)) return STRIDED;
      return TORCH.resolve(module, name);
    };
  }

  private static Object layoutName(PyTuple args) throws CheckpointException {
    if (args.size() != 1 || !(args.get(0) instanceof String name)) {
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          GET_LAYOUT + " takes one layout name, got " + args);
    }
    return name;
  }
}
