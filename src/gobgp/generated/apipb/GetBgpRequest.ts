// Original file: proto/gobgp/gobgp.proto


export interface GetBgpRequest {
}

export interface GetBgpRequest__Output {
}
