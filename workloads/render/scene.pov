// Spare reference render: three spheres on a checkered floor under a sky.
// Deterministic (no radiosity, no randomness), a few seconds at 320x240.
#version 3.7;
#include "colors.inc"
#include "metals.inc"
#include "textures.inc"

global_settings { assumed_gamma 1.0 max_trace_level 8 }

camera {
  location <0, 2.2, -7>
  look_at  <0, 0.8, 0>
  angle 50
}

light_source { <-6, 10, -8> color rgb <1, 0.97, 0.9> }
light_source { < 8,  6, -3> color rgb <0.35, 0.4, 0.5> shadowless }

sky_sphere {
  pigment {
    gradient y
    color_map { [0.0 color rgb <0.95, 0.75, 0.55>] [0.35 color rgb <0.35, 0.55, 0.9>] [1.0 color rgb <0.1, 0.2, 0.55>] }
  }
}

plane {
  y, 0
  pigment { checker color rgb <0.9, 0.9, 0.88> color rgb <0.12, 0.14, 0.2> scale 1.2 }
  finish { diffuse 0.8 reflection 0.15 }
}

// Chrome
sphere { <-2.1, 1, 0.8>, 1 texture { T_Chrome_4D } }

// Glass with a coloured core
sphere {
  <0, 1, -0.4>, 1
  material {
    texture { pigment { rgbf <0.95, 1, 0.97, 0.92> } finish { specular 0.8 roughness 0.002 reflection 0.08 } }
    interior { ior 1.5 }
  }
}
sphere { <0, 1, -0.4>, 0.35 pigment { color rgb <1, 0.35, 0.1> } finish { ambient 0.2 } }

// Gold, slightly bumpy
sphere {
  <2.1, 1, 0.8>, 1
  texture { T_Gold_3C normal { bumps 0.15 scale 0.2 } }
}

// A ring of small marbles
#declare I = 0;
#while (I < 12)
  sphere {
    <3.2 * cos(2 * pi * I / 12), 0.22, 2.6 + 1.4 * sin(2 * pi * I / 12)>, 0.22
    pigment { color CHSV2RGB(<I * 30, 0.8, 1>) }
    finish { specular 0.6 reflection 0.1 }
  }
  #declare I = I + 1;
#end
