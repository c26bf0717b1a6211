/** A client changed a warning; `action` is LXD's lifecycle name for it. */
export class WarningChangedEvent {
  constructor(readonly action: 'warning-acknowledged' | 'warning-reset' | 'warning-deleted', readonly uuid: string) {}
}
