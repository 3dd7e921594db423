"""What the customer's pages say, in each of the reason catalogue's locales (`en`, `pt-BR`, `es`): one
entry per phrase, `{name}` for what is filled in. The actions' own words (buttons, confirmations,
outcomes) are with the actions, in `orders.customer.actions`.

Statuses and timeline entries are in customer words, not the lifecycle's: a customer reads "Being
prepared", not `handling` (docs/customer-pages.md shows each one).
"""

from __future__ import annotations

from domain.lifecycle import Status

Phrase = dict[str, str]  # locale -> text

WORDS: dict[str, Phrase] = {
    "my_orders": {"en": "My orders", "pt-BR": "Meus pedidos", "es": "Mis pedidos"},
    "order": {"en": "Order {id}", "pt-BR": "Pedido {id}", "es": "Pedido {id}"},
    "skip": {"en": "Skip to content", "pt-BR": "Pular para o conteúdo", "es": "Saltar al contenido"},
    "sign_out": {"en": "Sign out", "pt-BR": "Sair", "es": "Cerrar sesión"},
    "signed_in_as": {
        "en": "Signed in as {who}",
        "pt-BR": "Conectado como {who}",
        "es": "Conectado como {who}",
    },
    "guest": {
        "en": "Signed in for order {id}",
        "pt-BR": "Conectado para o pedido {id}",
        "es": "Conectado para el pedido {id}",
    },
    "placed": {"en": "Placed {time}", "pt-BR": "Feito em {time}", "es": "Realizado el {time}"},
    "no_orders": {
        "en": "You have no orders yet.",
        "pt-BR": "Você ainda não tem pedidos.",
        "es": "Todavía no tienes pedidos.",
    },
    "older": {"en": "Older orders", "pt-BR": "Pedidos anteriores", "es": "Pedidos anteriores"},
    "status": {"en": "Status", "pt-BR": "Situação", "es": "Estado"},
    "amount": {"en": "Amount", "pt-BR": "Valor", "es": "Importe"},
    "items": {"en": "Items", "pt-BR": "Itens", "es": "Artículos"},
    "item": {"en": "Item", "pt-BR": "Item", "es": "Artículo"},
    "quantity": {"en": "Quantity", "pt-BR": "Quantidade", "es": "Cantidad"},
    "price": {"en": "Price", "pt-BR": "Preço", "es": "Precio"},
    "canceled_qty": {"en": "Canceled", "pt-BR": "Cancelados", "es": "Cancelados"},
    "amounts": {"en": "Amounts", "pt-BR": "Valores", "es": "Importes"},
    "total": {"en": "Order total", "pt-BR": "Total do pedido", "es": "Total del pedido"},
    "refunded": {
        "en": "Canceled and refunded",
        "pt-BR": "Cancelado e reembolsado",
        "es": "Cancelado y reembolsado",
    },
    "released": {
        "en": "Canceled (you won't be charged)",
        "pt-BR": "Cancelado (não será cobrado)",
        "es": "Cancelado (no se cobrará)",
    },
    "remaining": {"en": "Remaining", "pt-BR": "Restante", "es": "Restante"},
    "timeline": {"en": "Timeline", "pt-BR": "Histórico", "es": "Historial"},
    "can_cancel_until": {
        "en": "You can cancel this order until {time}",
        "pt-BR": "Você pode cancelar este pedido até {time}",
        "es": "Puedes cancelar este pedido hasta {time}",
    },
    "time_left": {"en": "Time left", "pt-BR": "Tempo restante", "es": "Tiempo restante"},
    "window_closed": {
        "en": "The time to cancel at once has passed.",
        "pt-BR": "O prazo para cancelar na hora terminou.",
        "es": "El plazo para cancelar al instante ha terminado.",
    },
    "waiting": {"en": "Waiting for the store", "pt-BR": "Aguardando a loja", "es": "Esperando a la tienda"},
    "waiting_order": {
        "en": "You asked to cancel this order. The store will answer by {time}; if it doesn't, the order is canceled.",
        "pt-BR": "Você pediu o cancelamento deste pedido. A loja responde até {time}; se não responder, o pedido é cancelado.",
        "es": "Pediste cancelar este pedido. La tienda responderá antes del {time}; si no lo hace, el pedido se cancela.",
    },
    "waiting_items": {
        "en": "You asked to cancel {items}. The store will answer by {time}; if it doesn't, they are canceled.",
        "pt-BR": "Você pediu o cancelamento de {items}. A loja responde até {time}; se não responder, eles são cancelados.",
        "es": "Pediste cancelar {items}. La tienda responderá antes del {time}; si no lo hace, se cancelan.",
    },
    "denied": {
        "en": "The store declined your cancellation request on {time}:",
        "pt-BR": "A loja recusou seu pedido de cancelamento em {time}:",
        "es": "La tienda rechazó tu solicitud de cancelación el {time}:",
    },
    "canceled_notice": {
        "en": "This order is canceled.",
        "pt-BR": "Este pedido está cancelado.",
        "es": "Este pedido está cancelado.",
    },
    "canceling_notice": {
        "en": "This order is being canceled.",
        "pt-BR": "Este pedido está sendo cancelado.",
        "es": "Este pedido se está cancelando.",
    },
    "reason": {"en": "Reason", "pt-BR": "Motivo", "es": "Motivo"},
    "choose_reason": {"en": "Choose a reason…", "pt-BR": "Escolha um motivo…", "es": "Elige un motivo…"},
    "details": {"en": "Details (optional)", "pt-BR": "Detalhes (opcional)", "es": "Detalles (opcional)"},
    "quantity_of": {"en": "Quantity of {sku}", "pt-BR": "Quantidade de {sku}", "es": "Cantidad de {sku}"},
    "of_remaining": {"en": "of {n}", "pt-BR": "de {n}", "es": "de {n}"},
    "keep": {"en": "Keep my order", "pt-BR": "Manter meu pedido", "es": "Mantener mi pedido"},
    "back": {"en": "Back to my orders", "pt-BR": "Voltar para meus pedidos", "es": "Volver a mis pedidos"},
    "choose_reason_error": {
        "en": "Choose a reason from the list. Nothing was sent.",
        "pt-BR": "Escolha um motivo da lista. Nada foi enviado.",
        "es": "Elige un motivo de la lista. No se envió nada.",
    },
    "choose_items_error": {
        "en": "Choose how many of at least one item, up to what remains. Nothing was sent.",
        "pt-BR": "Escolha a quantidade de pelo menos um item, até o que resta. Nada foi enviado.",
        "es": "Elige cuántas unidades de al menos un artículo, hasta lo que queda. No se envió nada.",
    },
    "refused": {"en": "Refused: {reason}", "pt-BR": "Recusado: {reason}", "es": "Rechazado: {reason}"},
    "queued": {
        "en": "Sent: it takes effect in a moment. This page shows it when it does.",
        "pt-BR": "Enviado: vale em instantes. Esta página mostra quando valer.",
        "es": "Enviado: se aplica en un momento. Esta página lo mostrará.",
    },
    "not_sent": {
        "en": "Not sent: the store can't be reached right now. Try again in a minute.",
        "pt-BR": "Não enviado: a loja não responde agora. Tente de novo em um minuto.",
        "es": "No enviado: la tienda no responde ahora. Inténtalo de nuevo en un minuto.",
    },
    "changed": {
        "en": "This order has changed.",
        "pt-BR": "Este pedido mudou.",
        "es": "Este pedido ha cambiado.",
    },
    "show_latest": {"en": "Show the latest", "pt-BR": "Ver o mais recente", "es": "Ver lo más reciente"},
    # Pages that say why nothing is shown.
    "not_found_title": {
        "en": "Order not found",
        "pt-BR": "Pedido não encontrado",
        "es": "Pedido no encontrado",
    },
    "not_found": {
        "en": "We can't find that order among yours.",
        "pt-BR": "Não encontramos esse pedido entre os seus.",
        "es": "No encontramos ese pedido entre los tuyos.",
    },
    "page_not_found": {
        "en": "There is no such page.",
        "pt-BR": "Essa página não existe.",
        "es": "Esa página no existe.",
    },
    "sign_in_title": {"en": "Sign in", "pt-BR": "Entrar", "es": "Iniciar sesión"},
    "sign_in_needed": {
        "en": "Open your orders from the store's website (My account) to sign in.",
        "pt-BR": "Abra seus pedidos pelo site da loja (Minha conta) para entrar.",
        "es": "Abre tus pedidos desde el sitio de la tienda (Mi cuenta) para iniciar sesión.",
    },
    "expired": {
        "en": "This sign-in link has expired. Open your orders again from the store's website.",
        "pt-BR": "Este link de acesso expirou. Abra seus pedidos de novo pelo site da loja.",
        "es": "Este enlace de acceso ha caducado. Abre tus pedidos de nuevo desde el sitio de la tienda.",
    },
    "invalid": {
        "en": "This sign-in link is not valid.",
        "pt-BR": "Este link de acesso não é válido.",
        "es": "Este enlace de acceso no es válido.",
    },
    "revoked": {
        "en": "You signed out with this link. Open your orders again from the store's website, or ask the store for a new link.",
        "pt-BR": "Você saiu usando este link. Abra seus pedidos de novo pelo site da loja, ou peça um novo link à loja.",
        "es": "Cerraste sesión con este enlace. Abre tus pedidos de nuevo desde el sitio de la tienda, o pide un enlace nuevo a la tienda.",
    },
    "disabled": {
        "en": "Signing in to your orders is not set up in this store yet.",
        "pt-BR": "O acesso aos pedidos ainda não está configurado nesta loja.",
        "es": "El acceso a los pedidos aún no está configurado en esta tienda.",
    },
    "signed_out_title": {"en": "Signed out", "pt-BR": "Você saiu", "es": "Sesión cerrada"},
    "signed_out": {
        "en": "You are signed out.",
        "pt-BR": "Você saiu da sua conta.",
        "es": "Has cerrado la sesión.",
    },
    "refused_title": {"en": "Refused", "pt-BR": "Recusado", "es": "Rechazado"},
    "csrf": {
        "en": "This form has expired or did not come from this page. Reload the page and try again.",
        "pt-BR": "Este formulário expirou ou não veio desta página. Recarregue a página e tente de novo.",
        "es": "Este formulario caducó o no vino de esta página. Recarga la página e inténtalo de nuevo.",
    },
    "too_many_title": {
        "en": "Too many requests",
        "pt-BR": "Muitas solicitações",
        "es": "Demasiadas solicitudes",
    },
    "too_many": {
        "en": "Too many requests from this session. Wait a minute and try again.",
        "pt-BR": "Muitas solicitações desta sessão. Espere um minuto e tente de novo.",
        "es": "Demasiadas solicitudes de esta sesión. Espera un minuto e inténtalo de nuevo.",
    },
    "unavailable_title": {"en": "Not available", "pt-BR": "Indisponível", "es": "No disponible"},
    "unavailable": {
        "en": "Your order's details can't be shown right now. Try again in a minute.",
        "pt-BR": "Os detalhes do seu pedido não podem ser mostrados agora. Tente de novo em um minuto.",
        "es": "Los detalles de tu pedido no se pueden mostrar ahora. Inténtalo de nuevo en un minuto.",
    },
    "bad_request_title": {"en": "Bad request", "pt-BR": "Pedido inválido", "es": "Solicitud no válida"},
    "bad_request": {
        "en": "The form could not be read: {problem}",
        "pt-BR": "O formulário não pôde ser lido: {problem}",
        "es": "No se pudo leer el formulario: {problem}",
    },
    # The timeline, in customer words: what each step of the order's life means to them.
    "t_placed": {"en": "Order placed", "pt-BR": "Pedido feito", "es": "Pedido realizado"},
    "t_paid": {"en": "Payment approved", "pt-BR": "Pagamento aprovado", "es": "Pago aprobado"},
    "t_window_over": {
        "en": "The time to cancel at once ended",
        "pt-BR": "Terminou o prazo para cancelar na hora",
        "es": "Terminó el plazo para cancelar al instante",
    },
    "t_window_extended": {
        "en": "The store gave you more time to cancel",
        "pt-BR": "A loja deu mais tempo para cancelar",
        "es": "La tienda te dio más tiempo para cancelar",
    },
    "t_handling": {
        "en": "The store is preparing your order",
        "pt-BR": "A loja está preparando seu pedido",
        "es": "La tienda está preparando tu pedido",
    },
    "t_you_canceled": {
        "en": "You canceled the order",
        "pt-BR": "Você cancelou o pedido",
        "es": "Cancelaste el pedido",
    },
    "t_store_canceled": {
        "en": "The store canceled the order",
        "pt-BR": "A loja cancelou o pedido",
        "es": "La tienda canceló el pedido",
    },
    "t_you_asked": {
        "en": "You asked to cancel the order",
        "pt-BR": "Você pediu o cancelamento do pedido",
        "es": "Pediste cancelar el pedido",
    },
    "t_store_asked": {
        "en": "The store started canceling the order",
        "pt-BR": "A loja começou a cancelar o pedido",
        "es": "La tienda empezó a cancelar el pedido",
    },
    "t_you_canceled_items": {
        "en": "You canceled items",
        "pt-BR": "Você cancelou itens",
        "es": "Cancelaste artículos",
    },
    "t_you_asked_items": {
        "en": "You asked to cancel items",
        "pt-BR": "Você pediu o cancelamento de itens",
        "es": "Pediste cancelar artículos",
    },
    "t_store_canceled_items": {
        "en": "The store canceled items",
        "pt-BR": "A loja cancelou itens",
        "es": "La tienda canceló artículos",
    },
    "t_accepted": {
        "en": "The store accepted your cancellation",
        "pt-BR": "A loja aceitou o cancelamento",
        "es": "La tienda aceptó la cancelación",
    },
    "t_declined": {
        "en": "The store declined your cancellation",
        "pt-BR": "A loja recusou o cancelamento",
        "es": "La tienda rechazó la cancelación",
    },
    "t_no_answer": {
        "en": "The store did not answer in time: your cancellation went through",
        "pt-BR": "A loja não respondeu a tempo: o cancelamento foi feito",
        "es": "La tienda no respondió a tiempo: la cancelación se hizo",
    },
    "t_store_more_time": {
        "en": "The store asked for more time to answer",
        "pt-BR": "A loja pediu mais tempo para responder",
        "es": "La tienda pidió más tiempo para responder",
    },
    "t_payment_failed": {
        "en": "The payment did not go through: the order is canceled",
        "pt-BR": "O pagamento não foi aprovado: o pedido foi cancelado",
        "es": "El pago no se aprobó: el pedido se canceló",
    },
    "t_invoiced_part": {
        "en": "Part of your order was invoiced",
        "pt-BR": "Parte do pedido foi faturada",
        "es": "Parte del pedido fue facturada",
    },
    "t_invoiced": {
        "en": "Your order was invoiced",
        "pt-BR": "Seu pedido foi faturado",
        "es": "Tu pedido fue facturado",
    },
    "t_returned": {
        "en": "A return was invoiced",
        "pt-BR": "Uma devolução foi faturada",
        "es": "Se facturó una devolución",
    },
    "t_canceled": {
        "en": "Canceled: your payment is refunded or released",
        "pt-BR": "Cancelado: seu pagamento foi estornado ou liberado",
        "es": "Cancelado: tu pago fue reembolsado o liberado",
    },
}

STATUS_WORDS: dict[Status, Phrase] = {
    Status.PAYMENT_PENDING: {
        "en": "Waiting for payment",
        "pt-BR": "Aguardando pagamento",
        "es": "Esperando el pago",
    },
    Status.WINDOW_TO_CANCEL: {
        "en": "Confirmed, can still be canceled",
        "pt-BR": "Confirmado, ainda pode ser cancelado",
        "es": "Confirmado, aún se puede cancelar",
    },
    Status.READY_FOR_HANDLING: {"en": "Confirmed", "pt-BR": "Confirmado", "es": "Confirmado"},
    Status.HANDLING: {"en": "Being prepared", "pt-BR": "Em preparação", "es": "En preparación"},
    Status.CANCELLATION_REQUESTED: {
        "en": "Cancellation requested",
        "pt-BR": "Cancelamento solicitado",
        "es": "Cancelación solicitada",
    },
    Status.CANCEL: {"en": "Being canceled", "pt-BR": "Cancelando", "es": "Cancelándose"},
    Status.CANCELED: {"en": "Canceled", "pt-BR": "Cancelado", "es": "Cancelado"},
    Status.INVOICED: {"en": "Invoiced", "pt-BR": "Faturado", "es": "Facturado"},
}
