// Package grpcwrap wraps every method of the services registered through a
// grpc.ServiceRegistrar, once for the platform's registrar decorators (the
// error table, the preauthorizer): a network server and the in-process
// channel then apply them alike.
package grpcwrap

import "google.golang.org/grpc"

// Registrar returns a registrar that registers each service with its unary
// method handlers passed through unary and its stream handlers through
// stream (either may be nil).
func Registrar(r grpc.ServiceRegistrar, unary func(grpc.MethodHandler) grpc.MethodHandler, stream func(grpc.StreamHandler) grpc.StreamHandler) grpc.ServiceRegistrar {
	return registrar{r: r, unary: unary, stream: stream}
}

type registrar struct {
	r      grpc.ServiceRegistrar
	unary  func(grpc.MethodHandler) grpc.MethodHandler
	stream func(grpc.StreamHandler) grpc.StreamHandler
}

func (w registrar) RegisterService(desc *grpc.ServiceDesc, impl any) {
	d := *desc
	d.Methods = make([]grpc.MethodDesc, len(desc.Methods))
	for i, m := range desc.Methods {
		if w.unary != nil {
			m.Handler = w.unary(m.Handler)
		}
		d.Methods[i] = m
	}
	d.Streams = make([]grpc.StreamDesc, len(desc.Streams))
	for i, s := range desc.Streams {
		if w.stream != nil {
			s.Handler = w.stream(s.Handler)
		}
		d.Streams[i] = s
	}
	w.r.RegisterService(&d, impl)
}
