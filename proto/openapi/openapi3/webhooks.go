package main

import "github.com/getkin/kin-openapi/openapi3"

// addWebhooks describes what the notification service POSTs to a
// registered webhook (OpenAPI 3.1 `webhooks`): the inbox Message as JSON,
// signed as the Standard Webhooks specification says, so receivers verify
// it with an existing library. It is written here rather than in edge.yaml
// because its body is a schema generated from the protos.
func (c *completer) addWebhooks() {
	header := func(name, desc string, schema *openapi3.Schema) *openapi3.ParameterRef {
		return &openapi3.ParameterRef{Value: &openapi3.Parameter{
			Name: name, In: openapi3.ParameterInHeader, Required: true, Description: desc,
			Schema: &openapi3.SchemaRef{Value: schema},
		}}
	}
	str := func(pattern string) *openapi3.Schema {
		return &openapi3.Schema{Type: &openapi3.Types{"string"}, Pattern: pattern}
	}
	ok := "Received. Any 2xx ends the delivery; anything else, or no answer within the timeout, is retried with back-off and finally dead-lettered."
	responses := openapi3.NewResponses()
	responses.Set("200", &openapi3.ResponseRef{Value: &openapi3.Response{Description: &ok}})
	op := &openapi3.Operation{
		OperationID: "receiveMessage",
		Summary:     "A message delivered to a webhook",
		Description: "What the notification service POSTs to a registered webhook for every message that reaches its " +
			"recipient (the same message as in the inbox). Deliveries follow the Standard Webhooks specification: verify " +
			"`webhook-signature` with the webhook's `whsec_…` secret and any Standard Webhooks library before trusting the " +
			"body, and use `webhook-id` to drop repeats.",
		Tags: []string{"Webhooks"},
		Parameters: openapi3.Parameters{
			header("webhook-id", "The delivery's id; the same on every retry of it.", str("")),
			header("webhook-timestamp", "Seconds since the Unix epoch when this attempt was signed.", str("^[0-9]+$")),
			header("webhook-signature", "`v1,` then the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` under the secret's bytes (the base64 after `whsec_`).", str("^v1,[A-Za-z0-9+/=]+$")),
		},
		RequestBody: &openapi3.RequestBodyRef{Value: &openapi3.RequestBody{
			Required: true,
			Content:  openapi3.NewContentWithJSONSchemaRef(&openapi3.SchemaRef{Ref: "#/components/schemas/Message", Value: c.doc.Components.Schemas["Message"].Value}),
		}},
		Responses: responses,
		Security:  &openapi3.SecurityRequirements{},
	}
	if c.doc.Webhooks == nil {
		c.doc.Webhooks = map[string]*openapi3.PathItem{}
	}
	c.doc.Webhooks["message"] = &openapi3.PathItem{Post: op}
}
