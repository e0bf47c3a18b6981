import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { LeaseAnswer as _quorate_v1_LeaseAnswer, LeaseAnswer__Output as _quorate_v1_LeaseAnswer__Output } from './quorate/v1/LeaseAnswer.js';
import type { LeaseRequest as _quorate_v1_LeaseRequest, LeaseRequest__Output as _quorate_v1_LeaseRequest__Output } from './quorate/v1/LeaseRequest.js';
import type { QuorumServerClient as _quorate_v1_QuorumServerClient, QuorumServerDefinition as _quorate_v1_QuorumServerDefinition } from './quorate/v1/QuorumServer.js';
import type { ReleaseAnswer as _quorate_v1_ReleaseAnswer, ReleaseAnswer__Output as _quorate_v1_ReleaseAnswer__Output } from './quorate/v1/ReleaseAnswer.js';
import type { ReleaseRequest as _quorate_v1_ReleaseRequest, ReleaseRequest__Output as _quorate_v1_ReleaseRequest__Output } from './quorate/v1/ReleaseRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  quorate: {
    v1: {
      LeaseAnswer: MessageTypeDefinition<_quorate_v1_LeaseAnswer, _quorate_v1_LeaseAnswer__Output>
      LeaseRequest: MessageTypeDefinition<_quorate_v1_LeaseRequest, _quorate_v1_LeaseRequest__Output>
      QuorumServer: SubtypeConstructor<typeof grpc.Client, _quorate_v1_QuorumServerClient> & { service: _quorate_v1_QuorumServerDefinition }
      ReleaseAnswer: MessageTypeDefinition<_quorate_v1_ReleaseAnswer, _quorate_v1_ReleaseAnswer__Output>
      ReleaseRequest: MessageTypeDefinition<_quorate_v1_ReleaseRequest, _quorate_v1_ReleaseRequest__Output>
    }
  }
}

