package org.internvl4j.image;
// TEMP STUB (untracked)
public record VideoFrames(java.util.List<PixelValues> frames, int[] frameIndices, double fps) {}
