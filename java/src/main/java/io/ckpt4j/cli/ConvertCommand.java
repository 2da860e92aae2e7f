package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.libtorch.TorchScript;
import io.ckpt4j.layout.hf.ShardFormat;
import io.ckpt4j.layout.hf.ShardSize;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.Format;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.save.DcpSaver;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.save.ShardedSaver;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.tensor.MapLocation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt4j convert [OPTIONS] IN OUT}: reads any checkpoint ckpt4j reads (zip, legacy,
 * safetensors, shards, a torch.distributed.checkpoint directory, a {@code .pt2} program's
 * state_dict) and writes it in PyTorch's zip format, which {@code torch.load(OUT)} reads with
 * {@code weights_only=True} and {@code mmap=True} — or, with {@code --to dcp [--ranks N]}, as a
 * DCP directory ({@code torch_save_to_dcp}), or, with {@code --max-shard-size SIZE}, as the shards
 * and index {@code save_pretrained} writes. Tensors are streamed from IN (mapped, never read
 * whole) into OUT; OUT is replaced atomically.
 *
 * <p>{@code --strip-prefix}/{@code --add-prefix} rename the keys of the state dict — the root,
 * or the one inside a checkpoint ({@code model}, {@code state_dict}, ...: as {@code
 * StateDict.from} finds it); the rest of the checkpoint is kept. Stripping is {@code
 * consume_prefix_in_state_dict_if_present}, {@code _metadata} included; adding is its inverse
 * (what wrapping in DataParallel does). A rename that would make two keys one is refused.
 * {@code --state-dict} writes only the state dict: of a whole pickled model (read as inert
 * objects, nothing run), or the one a checkpoint holds.
 *
 * <p>A TorchScript archive IN is written as {@code torch.jit.load(IN).state_dict()} (the
 * prefix options apply): naming it here is the explicit request to load it with LibTorch, which
 * runs its code — the checkpoint reader never does that on its own.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
    description = {"Convert a checkpoint (zip, legacy, safetensors, shards, a DCP directory, a"
        + " .pt2 program's state_dict) to PyTorch's zip format, or (--to dcp) to a"
        + " torch.distributed.checkpoint directory, or (--max-shard-size) to Hugging Face shards.",
        "A TorchScript archive (torch.jit.save) is written as its state_dict(), a plain"
            + " weights-only file: to read it LibTorch loads the archive, which runs its code"
            + " (convert only archives you trust)."})
final class ConvertCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "IN", description = "the checkpoint to read")
  Path in;

  @Parameters(index = "1", paramLabel = "OUT",
      description = "the .pt file to write (with --to dcp: the DCP directory; with"
          + " --max-shard-size: the directory of shards)")
  Path out;

  /** What OUT is: a torch.save file, or a torch.distributed.checkpoint directory. */
  enum Target { pt, dcp }

  @Option(names = "--to", paramLabel = "FORMAT", defaultValue = "pt",
      description = "pt: a torch.save file (default; a DCP directory IN gives what"
          + " dcp_to_torch_save writes); dcp: a torch.distributed.checkpoint directory, as"
          + " torch_save_to_dcp writes it")
  Target to;

  @Option(names = "--ranks", paramLabel = "N", defaultValue = "1",
      description = "with --to dcp: write as N ranks would, each tensor row-sharded (FSDP-style)"
          + " into __<rank>_0.distcp (default 1)")
  int ranks;

  @Option(names = "--max-shard-size", paramLabel = "SIZE",
      description = "write the state dict into directory OUT as save_pretrained(OUT,"
          + " max_shard_size=SIZE) does: shards of at most SIZE (5GB, 500MB, 10GiB, bytes) and"
          + " their index")
  String maxShardSize;

  @Option(names = "--shard-format", paramLabel = "F", defaultValue = "safetensors",
      description = "with --max-shard-size: safetensors (model-00001-of-0000N.safetensors, the"
          + " default, as safe_serialization=True) or torch (pytorch_model-00001-of-0000N.bin)")
  String shardFormat;

  @Option(names = "--no-progress", description = "draw no progress bar (one is drawn on a"
      + " terminal while a file of 64 MiB or more is written)")
  boolean noProgress;

  @Option(names = "--map-location", paramLabel = "DEV",
      description = "record every storage as saved on DEV (cpu, cuda:0) or remap (cuda:1=cuda:0,"
          + "cuda:2=cpu), so Python needs no map_location; default: as IN recorded them")
  String mapLocation;

  @Option(names = "--strip-prefix", paramLabel = "P",
      description = "remove P from the state dict's keys that start with it (e.g. module.)")
  String stripPrefix;

  @Option(names = "--add-prefix", paramLabel = "P",
      description = "put P before every state dict key (after --strip-prefix)")
  String addPrefix;

  @Option(names = "--state-dict", description = "write only the state dict: of a whole pickled"
      + " model (torch.save(model)), or the one a checkpoint holds")
  boolean stateDictOnly;

  @Mixin GlobalsOptions globals;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws CheckpointException {
    Format format = CheckpointLoader.detect(in);
    if (format == Format.LIBTORCH) {
      throw new CheckpointException(Kind.WRONG_LOADER, "cannot convert " + in + ": "
          + CheckpointLoader.archiveNote(in));
    }
    SaveOptions save = saveOptions();
    if (format == Format.TORCHSCRIPT) {
      // Asked for by name: the archive is loaded by LibTorch (its code runs), never by sniffing.
      try (StateDict weights = TorchScript.stateDict(in);
          StateDict renamed = renamed(weights)) {
        write(renamed.toPython(), null, save);
      }
    } else {
      convertCheckpoint(save);
    }
    PrintWriter stdout = spec.commandLine().getOut();
    stdout.printf("%s -> %s%n", in, out);
    stdout.flush();
    return 0;
  }

  private SaveOptions saveOptions() throws CheckpointException {
    SaveOptions save = SaveOptions.defaults().progress(
        ProgressBar.onTerminal(spec.commandLine().getErr(), "writing " + out, !noProgress));
    if (mapLocation != null) {
      try {
        save = save.mapLocation(MapLocation.parse(mapLocation));
      } catch (IllegalArgumentException e) {
        throw new CheckpointException(Kind.DEVICE,
            "--map-location " + mapLocation + ": " + e.getMessage());
      }
    }
    return save;
  }

  private void convertCheckpoint(SaveOptions save) throws CheckpointException {
    // Storages are mapped, not read, and stay on the CPU: OUT's locations come from IN's file.
    // --state-dict reads whole pickled models as inert objects (nothing runs).
    LoadOptions load = globals.mappedOnCpu();
    if (stateDictOnly) load = load.inertObjects(true);
    try (LoadedCheckpoint checkpoint = CheckpointLoader.load(in, load)) {
      if (stateDictOnly || maxShardSize != null) {
        // Shards hold a state dict, as save_pretrained writes one.
        try (StateDict extracted = StateDict.extract(checkpoint);
            StateDict renamed = renamed(extracted)) {
          write(renamed.toPython(), null, save);
        }
      } else if (stripPrefix != null || addPrefix != null) {
        Object found = StateDict.locate(checkpoint);
        try (StateDict stateDict = StateDict.fromTree(found, checkpoint);
            StateDict renamed = renamed(stateDict)) {
          Object root = replace(checkpoint.root(), found, renamed.toPython());
          write(root, checkpoint, save);
        }
      } else {
        write(checkpoint.root(), checkpoint, save);
      }
    }
  }

  /** Writes {@code tree} to OUT as --to says: a torch.save file or a DCP directory. */
  private void write(Object tree, LoadedCheckpoint source, SaveOptions save)
      throws CheckpointException {
    if (ranks < 1) {
      throw new CheckpointException(Kind.INVALID_VALUE, "--ranks " + ranks + ": give 1 or more");
    }
    if (maxShardSize != null) {
      if (to != Target.pt) {
        throw new CheckpointException(Kind.INVALID_VALUE, "--max-shard-size writes Hugging Face"
            + " shards and --to dcp a DCP directory: give one of them");
      }
      @SuppressWarnings("unchecked")
      Map<String, ?> stateDict = (Map<String, ?>) tree;
      ShardedSaver.save(out, stateDict, source, shardFormat(), ShardSize.parse(maxShardSize),
          save);
    } else if (to == Target.pt) {
      TorchSaver.save(out, tree, source, save);
    } else if (tree instanceof Map<?, ?> stateDict) {
      DcpSaver.save(out, stateDict, source, ranks, save);
    } else {
      throw new CheckpointException(Kind.INVALID_VALUE, "cannot write " + in + " as a DCP"
          + " directory: it holds a " + io.ckpt4j.value.PythonTypes.name(tree) + ", and"
          + " torch.distributed.checkpoint saves a state_dict (a dict)");
    }
  }

  private ShardFormat shardFormat() throws CheckpointException {
    return switch (shardFormat) {
      case "safetensors" -> ShardFormat.SAFETENSORS;
      case "torch" -> ShardFormat.TORCH;
      default -> throw new CheckpointException(Kind.INVALID_VALUE, "--shard-format " + shardFormat
          + ": not a shard format; use safetensors or torch");
    };
  }

  /** The state dict with --strip-prefix, then --add-prefix applied (a new reference either way). */
  private StateDict renamed(StateDict stateDict) throws CheckpointException {
    StateDict current = stateDict.filter(key -> true);
    if (stripPrefix != null) {
      try (StateDict previous = current) {
        current = previous.stripPrefix(stripPrefix);
      }
    }
    if (addPrefix != null) {
      try (StateDict previous = current) {
        current = previous.addPrefix(addPrefix);
      }
    }
    return current;
  }

  /** {@code root} with the dict {@code target} (found by identity) replaced by {@code value}. */
  private static Object replace(Object root, Object target, Object value) {
    if (root == target) return value;
    if (root instanceof Map<?, ?> map) {
      @SuppressWarnings("unchecked")
      Map<Object, Object> entries = (Map<Object, Object>) map;
      for (Map.Entry<Object, Object> e : entries.entrySet()) {
        if (e.getValue() == target) {
          e.setValue(value);
          return root;
        }
        if (e.getValue() instanceof Map<?, ?> && replace(e.getValue(), target, value) != null) {
          return root;
        }
      }
    }
    return null;
  }
}
