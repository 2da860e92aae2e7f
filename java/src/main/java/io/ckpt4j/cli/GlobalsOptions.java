package io.ckpt4j.cli;

import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.tensor.MapLocation;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The options every command that reads a checkpoint shares: which Python classes to read as
 * inert objects instead of refusing them (nothing is ever run).
 */
final class GlobalsOptions {
  @Option(names = "--allow-global", paramLabel = "MODULE.NAME",
      description = "read this Python class as an inert object instead of refusing it")
  List<String> allowGlobals = List.of();

  @Option(names = "--inert-objects",
      description = "read every unknown Python class as an inert object (nothing is run)")
  boolean inertObjects;

  /**
   * How commands that only look at a file read it: storages mapped (read only where touched),
   * everything on the CPU, with these globals allowed.
   */
  LoadOptions mappedOnCpu() {
    return LoadOptions.defaults().mmap(true).mapLocation(MapLocation.to("cpu"))
        .allowGlobals(allowGlobals.toArray(String[]::new)).inertObjects(inertObjects);
  }
}
