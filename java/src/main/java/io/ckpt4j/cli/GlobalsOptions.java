package io.ckpt4j.cli;

import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.tensor.MapLocation;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options every command that reads a checkpoint shares: which Python classes to read as
 * inert objects instead of refusing them (nothing is ever run), and which program of a .pt2
 * archive to read.
 */
final class GlobalsOptions {
  @Option(names = "--allow-global", paramLabel = "MODULE.NAME",
      description = "read this Python class as an inert object instead of refusing it")
  List<String> allowGlobals = List.of();

  @Option(names = "--inert-objects",
      description = "read every unknown Python class as an inert object (nothing is run)")
  boolean inertObjects;

  @Option(names = "--model", paramLabel = "NAME",
      description = "which exported program of a .pt2 archive to read (default: model, the one"
          + " torch.export.load reads)")
  String pt2Model;

  /**
   * How commands that only look at a file read it: storages mapped (read only where touched),
   * everything on the CPU, with these globals allowed.
   */
  LoadOptions mappedOnCpu() {
    LoadOptions options = LoadOptions.defaults().mmap(true).mapLocation(MapLocation.to("cpu"))
        .allowGlobals(allowGlobals.toArray(String[]::new)).inertObjects(inertObjects);
    return pt2Model == null ? options : options.pt2Model(pt2Model);
  }
}
