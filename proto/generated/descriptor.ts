import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AttributeValue as _devcompat_v1_AttributeValue, AttributeValue__Output as _devcompat_v1_AttributeValue__Output } from './devcompat/v1/AttributeValue.ts';
import type { Capacity as _devcompat_v1_Capacity, Capacity__Output as _devcompat_v1_Capacity__Output } from './devcompat/v1/Capacity.ts';
import type { Descriptor as _devcompat_v1_Descriptor, Descriptor__Output as _devcompat_v1_Descriptor__Output } from './devcompat/v1/Descriptor.ts';
import type { Rule as _devcompat_v1_Rule, Rule__Output as _devcompat_v1_Rule__Output } from './devcompat/v1/Rule.ts';
import type { SetValue as _devcompat_v1_SetValue, SetValue__Output as _devcompat_v1_SetValue__Output } from './devcompat/v1/SetValue.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  devcompat: {
    v1: {
      AttributeValue: MessageTypeDefinition<_devcompat_v1_AttributeValue, _devcompat_v1_AttributeValue__Output>
      Capacity: MessageTypeDefinition<_devcompat_v1_Capacity, _devcompat_v1_Capacity__Output>
      CompareOp: EnumTypeDefinition
      Descriptor: MessageTypeDefinition<_devcompat_v1_Descriptor, _devcompat_v1_Descriptor__Output>
      Rule: MessageTypeDefinition<_devcompat_v1_Rule, _devcompat_v1_Rule__Output>
      SetValue: MessageTypeDefinition<_devcompat_v1_SetValue, _devcompat_v1_SetValue__Output>
    }
  }
}

