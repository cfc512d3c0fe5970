import { useEffect, type ReactNode } from 'react';

interface Props {
  title: string;
  testId: string;
  onClose: () => void;
  children: ReactNode;
}

/** What is one tap away (setting the time by hand, the full log, how to connect): a full-screen layer with a Close button. */
export function Sheet({ title, testId, onClose, children }: Props) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="sheet-layer">
      <section className="sheet" role="dialog" aria-modal="true" aria-labelledby={`${testId}-title`} data-testid={testId}>
        <header className="sheet-head">
          <h2 id={`${testId}-title`}>{title}</h2>
          <button type="button" className="btn" data-testid={`${testId}-close`} onClick={onClose}>
            Close
          </button>
        </header>
        <div className="sheet-body">{children}</div>
      </section>
    </div>
  );
}
