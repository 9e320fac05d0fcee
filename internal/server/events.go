package server

import (
	"encoding/json"
	"maps"
	"sync"
)

// eventQueue is how many events a subscriber of the event stream may fall
// behind by. Later events are dropped for it until it catches up.
const eventQueue = 64

// eventBus sends events to the subscribers of /api/events/subscribe, each
// as one JSON text message: the event's fields and its schema_id, as
// jupyter_server sends them. It is safe for concurrent use.
type eventBus struct {
	mu   sync.Mutex
	subs map[chan []byte]struct{}
}

// subscribe returns the channel of the events published from now on, and
// the function that ends the subscription.
func (b *eventBus) subscribe() (<-chan []byte, func()) {
	ch := make(chan []byte, eventQueue)
	b.mu.Lock()
	if b.subs == nil {
		b.subs = map[chan []byte]struct{}{}
	}
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		delete(b.subs, ch)
		b.mu.Unlock()
	}
}

// publish sends the event of schemaID with data to every subscriber.
func (b *eventBus) publish(schemaID string, data map[string]any) {
	event := maps.Clone(data)
	if event == nil {
		event = map[string]any{}
	}
	event["schema_id"] = schemaID
	msg, err := json.Marshal(event)
	if err != nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- msg:
		default:
		}
	}
}
