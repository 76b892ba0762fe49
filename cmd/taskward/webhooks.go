package main

import (
	"log/slog"

	"github.com/taskward/taskward/controller"
)

// webhookRoutes returns the webhook receivers to mount on the controller's listener.
func (f *controllerFlags) webhookRoutes(log *slog.Logger) ([]controller.Option, error) {
	return nil, nil
}

// attachWebhooks connects the receivers to the controller's reconcile trigger.
func (f *controllerFlags) attachWebhooks(c *controller.Controller) {}
