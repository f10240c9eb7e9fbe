// offset_{{NAME}}(i): the storage index of output element i in input {{NAME}}, whose strides over the output
// shape P.shape are P.{{STRIDES}} (0 on broadcast dims) and whose first element is at P.off[{{SLOT}}].
#if !{{NAME}}_CONTIG
#include "unravel.wgsl" FN=unravel_{{NAME}} RANK=rank SHAPE=shape STRIDES={{STRIDES}}
#endif
fn offset_{{NAME}}(i: u32) -> u32 {
#if {{NAME}}_CONTIG
  return P.off[{{SLOT}}] + i;
#else
  return P.off[{{SLOT}}] + unravel_{{NAME}}(i);
#endif
}
